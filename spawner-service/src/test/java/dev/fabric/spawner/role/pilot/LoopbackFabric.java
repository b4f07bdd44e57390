package dev.fabric.spawner.role.pilot;

import dev.fabric.core.client.RequestBatches;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.queue.QueueWire;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.client.HttpClientErrorException;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fabric around a pilot manager, in memory, for the manager's unit tests: members that a test
 * moves from state to state, a queue that keeps what was put in it, topics that keep what was
 * published and hand it to followers. The end-to-end tests (fabric-cli's {@code TasksIT}) use the real ones.
 */
final class LoopbackFabric implements PilotFabric {

    record Spawned(String id, PilotWire.Where where, String type, Map<String, String> config) {}

    final List<Spawned> spawned = new ArrayList<>();
    final Map<String, InstanceState> states = new LinkedHashMap<>();
    final List<String> stopped = new ArrayList<>();
    final Map<String, List<String>> queues = new LinkedHashMap<>();
    final Map<String, List<String>> topics = new LinkedHashMap<>();
    /** Run before each spawn and after each stop, outside this fabric's lock: what else happens meanwhile. */
    volatile Runnable beforeSpawn = () -> { };
    volatile Runnable afterStop = () -> { };
    /** Run inside each enqueue before the queue takes the messages, outside this fabric's lock: a request in flight. */
    volatile Runnable duringEnqueue = () -> { };
    /** Messages withdrawn, by id; a test decides whether a withdrawal finds its message unheld ({@link #withdrawable}). */
    final List<String> withdrawn = new ArrayList<>();
    volatile boolean withdrawable = true;
    /** The max-body-size the manager counts with, and what the queue members take: a member's 413 for a request over it. */
    volatile long maxBodyBytes = RequestBatches.MEMBER_MAX_BODY_BYTES;
    volatile long queueTakes = RequestBatches.MEMBER_MAX_BODY_BYTES;
    /** The bytes of every enqueue request the queue took, and how many it refused as too large. */
    final List<Integer> enqueueRequests = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile int refusedAsTooLarge;
    /** Whether the manager closed it. */
    volatile boolean closed;
    private int next;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String spawn(PilotWire.Where where, String type, String name, Map<String, String> config) {
        beforeSpawn.run();
        synchronized (this) {
            String id = type + "-" + (++next);
            spawned.add(new Spawned(id, where, type, config));
            states.put(id, InstanceState.PENDING);
            return id;
        }
    }

    synchronized void allRunning() {
        states.replaceAll((id, state) -> state == InstanceState.PENDING ? InstanceState.RUNNING : state);
    }

    synchronized void set(String id, InstanceState state) {
        states.put(id, state);
    }

    @Override
    public synchronized ServiceInstance member(String id) {
        InstanceState state = states.get(id);
        if (state == null) {
            throw new IllegalArgumentException("unknown member " + id);
        }
        String type = id.substring(0, id.lastIndexOf('-'));
        return new ServiceInstance(id, type, null, state, null, 1, "manager", Connectivity.DIRECT, Map.of(), Map.of(),
                Instant.EPOCH, Instant.EPOCH, Instant.EPOCH);
    }

    @Override
    public void stop(String id) {
        synchronized (this) {
            stopped.add(id);
            states.put(id, InstanceState.STOPPED);
        }
        afterStop.run();
    }

    @Override
    public long maxBodyBytes() {
        return maxBodyBytes;
    }

    @Override
    public List<String> enqueue(String queue, List<String> bodies) {
        duringEnqueue.run();
        int bytes = JSON.writeValueAsBytes(QueueWire.Enqueue.all(bodies)).length;
        if (bytes > queueTakes) {
            refusedAsTooLarge++;
            throw HttpClientErrorException.create(HttpStatusCode.valueOf(413), "Content Too Large", HttpHeaders.EMPTY,
                    ("{\"status\":413,\"reason\":\"body-too-large\",\"detail\":\"the request body exceeds " + queueTakes
                            + " bytes; send a smaller body\"}").getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        }
        synchronized (this) {
            enqueueRequests.add(bytes);
            List<String> messages = queues.computeIfAbsent(queue, q -> new ArrayList<>());
            List<String> ids = new ArrayList<>();
            for (String body : bodies) {
                ids.add(queue + "#" + messages.size());
                messages.add(body);
            }
            return ids;
        }
    }

    @Override
    public synchronized boolean withdraw(String queue, String message) {
        if (withdrawable) {
            withdrawn.add(message);
        }
        return withdrawable;
    }

    synchronized List<String> queued(String queue) {
        return List.copyOf(queues.getOrDefault(queue, List.of()));
    }

    @Override
    public synchronized void publish(String pubsub, String topic, List<String> bodies) {
        topics.computeIfAbsent(topic, t -> new ArrayList<>()).addAll(bodies);
        notifyAll();
    }

    synchronized List<String> published(String topic) {
        return List.copyOf(topics.getOrDefault(topic, List.of()));
    }

    @Override
    public void follow(String pubsub, String topic, long from, PageSink sink) throws InterruptedException {
        long offset = from;
        while (true) {
            List<Message> page = new ArrayList<>();
            synchronized (this) {
                List<String> messages = topics.getOrDefault(topic, List.of());
                while (offset >= messages.size()) {
                    wait();
                    messages = topics.getOrDefault(topic, List.of());
                }
                for (long at = offset; at < messages.size(); at++) {
                    page.add(new Message(at, messages.get((int) at)));
                }
            }
            sink.accept(page);
            offset += page.size();
        }
    }
}
