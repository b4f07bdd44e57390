package dev.fabric.spawner.role.pilot;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.spring.FabricRestClients;
import org.springframework.http.MediaType;
import org.springframework.web.client.HttpClientErrorException;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
        client.call(pubsub, "pubsub", (http, url) -> http.post().uri("/topics/{topic}/messages", topic)
                .contentType(MediaType.APPLICATION_JSON).body(Map.of("bodies", bodies)).retrieve().toBodilessEntity());
    }

    @Override
    public void follow(String pubsub, String topic, long from, MessageSink sink) throws InterruptedException {
        try {
            client.call(pubsub, "pubsub", (http, url) -> {
                // A stream lives as long as its reader wants: no read timeout (the pubsub's keep-alive comments keep it open).
                http.mutate().requestFactory(FabricRestClients.requestFactory(Duration.ofSeconds(3), null)).build()
                        .get().uri("/topics/{topic}/messages?from={from}", topic, from)
                        .accept(MediaType.TEXT_EVENT_STREAM)
                        .exchange((request, response) -> {
                            if (!response.getStatusCode().is2xxSuccessful()) {
                                throw new IllegalStateException("pubsub " + pubsub + " answered the stream of " + topic + " from " + from
                                        + " with HTTP " + response.getStatusCode().value() + ": "
                                        + new String(response.getBody().readNBytes(2048), StandardCharsets.UTF_8));
                            }
                            readEvents(new BufferedReader(new InputStreamReader(response.getBody(), StandardCharsets.UTF_8)), sink);
                            return null;
                        });
                return null;
            });
        } catch (Interrupted e) {
            throw e.cause;
        }
    }

    /** Server-sent events: {@code id: N}, {@code data: ...} lines, a blank line ends an event; comments start with ':'. */
    private static void readEvents(BufferedReader reader, MessageSink sink) throws java.io.IOException {
        String line;
        Long id = null;
        StringBuilder data = null;
        while ((line = reader.readLine()) != null) {
            if (line.isEmpty()) {
                if (id != null && data != null) {
                    try {
                        sink.accept(id, data.toString());
                    } catch (InterruptedException e) {
                        throw new Interrupted(e);
                    }
                }
                id = null;
                data = null;
            } else if (line.startsWith("id:")) {
                id = Long.parseLong(line.substring(3).strip());
            } else if (line.startsWith("data:")) {
                String part = line.substring(5);
                part = part.startsWith(" ") ? part.substring(1) : part;
                data = data == null ? new StringBuilder(part) : data.append('\n').append(part);
            }
        }
    }

    /** Carries an interrupt out of the exchange callback, which may throw only unchecked exceptions and IOException. */
    private static final class Interrupted extends RuntimeException {
        final InterruptedException cause;

        Interrupted(InterruptedException cause) {
            super(cause);
            this.cause = cause;
        }
    }
}
