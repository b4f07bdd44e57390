package dev.fabric.spawner.role.pilot;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.Subscription;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.ServiceInstance;
import org.springframework.http.MediaType;
import org.springframework.web.client.HttpClientErrorException;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pilot manager's reach into the fabric, through {@link FabricClient}: every call signed with
 * the fabric key, every member found in the registry (through its bridge when it has one), a dead
 * one restarted by its spawner before the call is retried.
 */
final class MemberPilotFabric implements PilotFabric {

    private final FabricClient client;
    private final String self;

    MemberPilotFabric(FabricClient client, String self) {
        this.client = client;
        this.self = self;
    }

    @Override
    public String spawn(PilotWire.Where where, String type, String name, Map<String, String> config) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("type", type);
        request.put("name", name);
        request.put("config", config);
        String spawner = self;
        if (where != null && where.member() != null) {
            spawner = where.member();
        } else if (where != null && where.host() != null) {
            request.put("host", where.host());
        }
        if (where != null && where.connectivity() != null) {
            request.put("connectivity", where.connectivity().name());
        }
        ServiceInstance spawned = client.call(spawner, (http, url) -> http.post().uri("/api/v1/spawns")
                .contentType(MediaType.APPLICATION_JSON).body(request).retrieve().body(ServiceInstance.class));
        if (spawned == null || spawned.id() == null) {
            throw new IllegalStateException("member " + spawner + " accepted the spawn of a " + type + " but named no member");
        }
        return spawned.id();
    }

    @Override
    public ServiceInstance member(String id) {
        return client.registry().get(id);
    }

    @Override
    public void stop(String id) {
        ServiceInstance member = client.registry().get(id);
        if (member.state() == dev.fabric.core.registry.InstanceState.STOPPED || member.state() == dev.fabric.core.registry.InstanceState.LOST) {
            return;
        }
        String supervisor = ServiceInstance.supervisorOf(member);
        try {
            client.call(supervisor, (http, url) -> http.delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity());
        } catch (HttpClientErrorException.NotFound gone) {
            // Its supervisor no longer knows it: nothing left to stop.
        }
    }

    @Override
    public void enqueue(String queue, String body) {
        client.call(queue, "queue", (http, url) -> http.post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", body)).retrieve().toBodilessEntity());
    }

    @Override
    public void publish(String pubsub, String topic, List<String> bodies) {
        client.pubsub(pubsub).publishAll(topic, bodies);
    }

    @Override
    public void follow(String pubsub, String topic, long from, MessageSink sink) throws InterruptedException {
        Subscription subscription = client.pubsub(pubsub).subscribe(topic, from, message -> {
            try {
                sink.accept(message.offset(), message.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while handling offset " + message.offset() + " of " + topic, e);
            }
        });
        try {
            while (!subscription.awaitEnd(Duration.ofMinutes(1))) {
                // following: the subscription reconnects by itself after a broken stream
            }
            subscription.failure().ifPresent(failure -> {
                throw failure;
            });
        } finally {
            subscription.close();
        }
    }
}
