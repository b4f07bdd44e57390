package dev.fabric.spawner.role.pilot;

import dev.fabric.core.client.BoundMember;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.Subscription;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.queue.QueueWire;
import dev.fabric.core.registry.ServiceInstance;
import org.springframework.http.MediaType;
import org.springframework.web.client.HttpClientErrorException;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The pilot manager's reach into the fabric, through {@link FabricClient}: every call signed with
 * the fabric key, every member found in the registry (through its bridge when it has one), a dead
 * one restarted by its spawner before the call is retried.
 */
final class MemberPilotFabric implements PilotFabric {

    /** The most events handed to the manager at once. */
    private static final int PAGE = 1000;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final FabricClient client;
    private final String self;
    /** Each queue reached without a registry look-up per call, after the first. */
    private final Map<String, BoundMember> queues = new ConcurrentHashMap<>();

    MemberPilotFabric(FabricClient client, String self) {
        this.client = client;
        this.self = self;
    }

    /** Closes its client: its subscriptions end, its connections and threads are released. */
    @Override
    public void close() {
        client.close();
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
    public long maxBodyBytes() {
        return client.maxBodyBytes();
    }

    /** Sends the JSON the manager measured its batch by: a request under the queue member's max-body-size. */
    @Override
    public List<String> enqueue(String queue, List<String> bodies) {
        byte[] request = JSON.writeValueAsBytes(QueueWire.Enqueue.all(bodies));
        QueueWire.EnqueuedAll enqueued = queues.computeIfAbsent(queue, id -> client.bind(id, "queue")).call((http, url) -> http.post()
                .uri("/messages").contentType(MediaType.APPLICATION_JSON).body(request).retrieve()
                .body(QueueWire.EnqueuedAll.class));
        return enqueued == null ? List.of() : enqueued.ids();
    }

    @Override
    public boolean withdraw(String queue, String message) {
        try {
            queues.computeIfAbsent(queue, id -> client.bind(id, "queue")).call((http, url) -> http.delete().uri("/messages/{id}", message)
                    .retrieve().toBodilessEntity());
            return true;
        } catch (HttpClientErrorException.Conflict | HttpClientErrorException.NotFound heldOrDone) {
            // A consumer holds it (message-leased) or acked it: its agent decides, and says so on the events topic.
            return false;
        }
    }

    @Override
    public void publish(String pubsub, String topic, List<String> bodies) {
        client.pubsub(pubsub).publishAll(topic, bodies);
    }

    /**
     * The stream's reader hands each message over as it comes; this thread takes whatever has come
     * meanwhile as one page, so the manager journals the final states of a burst with one forced write
     * while the stream reads on. This thread alone is interrupted: the stream's is not (an interrupted
     * call would look to the fail-over like a member that cannot be reached).
     */
    @Override
    public void follow(String pubsub, String topic, long from, PageSink sink) throws InterruptedException {
        BlockingQueue<Message> arrived = new LinkedBlockingQueue<>();
        Subscription subscription = client.pubsub(pubsub).subscribe(topic, from,
                message -> arrived.add(new Message(message.offset(), message.body())));
        try {
            while (true) {
                Message first = arrived.poll(1, TimeUnit.SECONDS);
                if (first == null && subscription.awaitEnd(Duration.ZERO)) {
                    // Ended: what came before the end is handed over before the end is.
                    List<Message> rest = new ArrayList<>();
                    arrived.drainTo(rest);
                    if (!rest.isEmpty()) {
                        sink.accept(rest);
                    }
                    subscription.failure().ifPresent(failure -> {
                        throw failure;
                    });
                    return;
                }
                if (first != null) {
                    List<Message> page = new ArrayList<>();
                    page.add(first);
                    arrived.drainTo(page, PAGE - 1);
                    sink.accept(page);
                }
            }
        } finally {
            subscription.close();
        }
    }
}
