package dev.fabric.cli.commands.console;

import dev.fabric.core.sse.ServerSentEvent;
import dev.fabric.core.sse.SseDecoder;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The fabric as the console's pages see it, kept live from the registry: the instances and their
 * session ids, and whether the registry answers. It follows the registry's watch stream (each change
 * reaches the pages at once, as server-sent events), lists the instances again every
 * {@link #REFRESH} (for the heartbeat times, which the stream does not carry, and to notice a
 * registry gone quiet), and reconnects after 0.5 s, 1 s, then every 2 s when the registry goes away.
 *
 * <p>Each page subscribes; a new subscriber gets the whole picture first ({@code snapshot}), then
 * {@code member}, {@code removed}, {@code change}, {@code registry} and {@code sample} events. A page
 * that reconnects subscribes again and so misses nothing.
 */
final class FabricView implements AutoCloseable {

    static final Duration REFRESH = Duration.ofSeconds(2);
    private static final Duration MAX_DELAY = Duration.ofSeconds(2);
    /** A page that does not read its events (a tab asleep) is dropped past this many; its EventSource reconnects. */
    private static final int SUBSCRIBER_BACKLOG = 10_000;

    private final Registry registry;
    private final JsonMapper json;
    private final Clock clock;
    private final List<BlockingQueue<String>> subscribers = new CopyOnWriteArrayList<>();

    /** id to the instance as the registry last showed it, with {@code sessions} added. Guarded by this. */
    private final Map<String, ObjectNode> members = new TreeMap<>();
    /** The last revision applied from the watch stream. Guarded by this. */
    private long revision = -1;
    private boolean registryUp;
    private String registryProblem = "connecting to the registry";
    /** Last heartbeat times at the previous listing, to count heartbeats per second. Guarded by this. */
    private Map<String, String> lastBeats = Map.of();
    private Instant lastListing;

    private volatile InputStream watchBody;
    private volatile boolean closed;
    private Thread follower;
    private Thread refresher;

    FabricView(Registry registry, JsonMapper json, Clock clock) {
        this.registry = registry;
        this.json = json;
        this.clock = clock;
    }

    void start() {
        follower = Thread.ofVirtual().name("console-watch").start(this::follow);
        refresher = Thread.ofVirtual().name("console-refresh").start(this::refresh);
    }

    String registryUrl() {
        return registry.baseUrl();
    }

    /** A new page's queue of encoded events, starting with the whole picture. */
    BlockingQueue<String> subscribe() {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>(SUBSCRIBER_BACKLOG);
        synchronized (this) {
            queue.add(event("snapshot", snapshot()));
            subscribers.add(queue);
        }
        return queue;
    }

    void unsubscribe(BlockingQueue<String> queue) {
        subscribers.remove(queue);
    }

    /** The instance as the view holds it (with its sessions), if the registry has it. */
    synchronized Optional<ObjectNode> member(String id) {
        return Optional.ofNullable(members.get(id)).map(ObjectNode::deepCopy);
    }

    /** Every session id some member serves, with those members' ids. */
    synchronized Map<String, List<String>> sessions() {
        Map<String, List<String>> bySession = new TreeMap<>();
        members.forEach((id, member) -> member.path("sessions").forEach(s -> bySession.computeIfAbsent(s.asString(), k -> new ArrayList<>()).add(id)));
        return bySession;
    }

    @Override
    public void close() {
        closed = true;
        closeWatch();
        if (follower != null) {
            follower.interrupt();
        }
        if (refresher != null) {
            refresher.interrupt();
        }
    }

    // ---- following the registry

    private void follow() {
        int failures = 0;
        while (!closed) {
            try {
                long since = load();
                registry.watch(since, () -> { }, this::read);
                failures = 0;
            } catch (CliException e) {
                failures++;
                down(e.getMessage());
            } catch (RuntimeException e) {
                failures++;
                down("the console could not read the registry: " + e);
            }
            if (closed) {
                return;
            }
            try {
                Thread.sleep(Math.min(MAX_DELAY.toMillis(), 250L << Math.min(failures, 4)));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Lists every instance and its sessions afresh; returns the revision to watch from. */
    private long load() {
        JsonNode raw = registry.instances(new RegistryWire.Filter(null, null, null, null));
        Map<String, ObjectNode> fresh = new TreeMap<>();
        for (JsonNode instance : raw.path("instances")) {
            ObjectNode copy = ((ObjectNode) instance).deepCopy();
            ArrayNode sessions = copy.putArray("sessions");
            String id = instance.path("id").asString();
            try {
                registry.sessions(id).forEach(sessions::add);
            } catch (CliException gone) {
                // Deregistered between the list and now: the watch says so next.
            }
            fresh.put(id, copy);
        }
        long since = raw.path("revision").asLong();
        synchronized (this) {
            members.clear();
            members.putAll(fresh);
            revision = since;
            registryUp = true;
            registryProblem = null;
            broadcast(event("snapshot", snapshot()));
        }
        return since;
    }

    private void read(InputStream body) throws IOException {
        watchBody = body;
        BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        SseDecoder decoder = new SseDecoder();
        String line;
        while (!closed && (line = reader.readLine()) != null) {
            Optional<ServerSentEvent> event = decoder.line(line);
            if (event.isPresent()) {
                apply(event.get());
            }
        }
    }

    private void apply(ServerSentEvent event) {
        long eventRevision;
        JsonNode data;
        try {
            eventRevision = event.id() == null ? -1 : Long.parseLong(event.id().strip());
            data = json.readTree(event.data());
        } catch (NumberFormatException | JacksonException e) {
            return; // not a change this console reads
        }
        JsonNode instance = data.path("instance");
        String id = instance.path("id").asString(null);
        synchronized (this) {
            if (eventRevision >= 0 && eventRevision <= revision) {
                return; // already in the listing this stream started from
            }
            revision = Math.max(revision, eventRevision);
            if (id == null) {
                return;
            }
            ObjectNode change = json.createObjectNode().put("revision", eventRevision).put("kind", event.type()).put("id", id)
                    .put("at", clock.instant().toString());
            for (String field : List.of("from", "to", "reason", "session")) {
                if (data.hasNonNull(field)) {
                    change.put(field, data.get(field).asString());
                }
            }
            change.put("incarnation", instance.path("incarnation").asLong());
            switch (event.type()) {
                case "DEREGISTERED" -> {
                    members.remove(id);
                    broadcast(event("removed", json.createObjectNode().put("id", id)));
                }
                case "SESSION_ADDED", "SESSION_REMOVED" -> {
                    ObjectNode member = members.get(id);
                    if (member != null && data.hasNonNull("session")) {
                        TreeSet<String> sessions = new TreeSet<>();
                        member.path("sessions").forEach(s -> sessions.add(s.asString()));
                        if (event.type().equals("SESSION_ADDED")) {
                            sessions.add(data.get("session").asString());
                        } else {
                            sessions.remove(data.get("session").asString());
                        }
                        ArrayNode array = member.putArray("sessions");
                        sessions.forEach(array::add);
                        broadcast(event("member", member));
                    }
                }
                default -> {
                    if (instance instanceof ObjectNode fields) {
                        ObjectNode member = fields.deepCopy();
                        ObjectNode known = members.get(id);
                        member.set("sessions", known == null ? json.createArrayNode() : known.path("sessions").deepCopy());
                        members.put(id, member);
                        broadcast(event("member", member));
                    }
                }
            }
            broadcast(event("change", change));
        }
    }

    // ---- the periodic listing: heartbeat times, the charts' samples, and noticing a registry gone

    private void refresh() {
        while (!closed) {
            try {
                Thread.sleep(REFRESH);
            } catch (InterruptedException e) {
                return;
            }
            try {
                JsonNode list = registry.instances(new RegistryWire.Filter(null, null, null, null));
                heartbeats(list);
            } catch (CliException e) {
                down(e.getMessage());
                closeWatch(); // the follower notices and reconnects when the registry is back
            } catch (RuntimeException e) {
                down("the console could not read the registry: " + e);
            }
        }
    }

    private synchronized void heartbeats(JsonNode list) {
        Instant now = clock.instant();
        Map<String, String> beats = new LinkedHashMap<>();
        int beaten = 0;
        ObjectNode times = json.createObjectNode();
        for (JsonNode instance : list.path("instances")) {
            String id = instance.path("id").asString();
            String beat = instance.path("lastHeartbeatAt").asString(null);
            if (beat == null) {
                continue;
            }
            beats.put(id, beat);
            if (!beat.equals(lastBeats.get(id))) {
                beaten++;
            }
            ObjectNode member = members.get(id);
            if (member != null && member.path("incarnation").asLong() == instance.path("incarnation").asLong()) {
                member.put("lastHeartbeatAt", beat);
                times.put(id, beat);
            }
        }
        double seconds = lastListing == null ? 0 : Duration.between(lastListing, now).toMillis() / 1000.0;
        lastBeats = beats;
        lastListing = now;
        if (!registryUp) {
            return; // the follower reloads and says the registry is back
        }
        ObjectNode sample = json.createObjectNode().put("at", now.toString());
        sample.put("heartbeatsPerSecond", seconds <= 0 ? 0 : Math.round(beaten / seconds * 10) / 10.0);
        ObjectNode byState = sample.putObject("byState");
        members.values().forEach(m -> byState.put(m.path("state").asString("?"), byState.path(m.path("state").asString("?")).asInt() + 1));
        sample.set("lastHeartbeats", times);
        broadcast(event("sample", sample));
    }

    // ---- the pages' events

    private synchronized void down(String problem) {
        if (closed) {
            return;
        }
        boolean changed = registryUp || !problem.equals(registryProblem);
        registryUp = false;
        registryProblem = problem;
        if (changed) {
            broadcast(event("registry", registryStatus()));
        }
    }

    private ObjectNode registryStatus() {
        ObjectNode status = json.createObjectNode().put("url", registry.baseUrl()).put("up", registryUp);
        if (registryProblem != null) {
            status.put("problem", registryProblem);
        }
        return status;
    }

    private ObjectNode snapshot() {
        ObjectNode snapshot = json.createObjectNode();
        snapshot.set("registry", registryStatus());
        snapshot.put("at", clock.instant().toString());
        ArrayNode array = snapshot.putArray("members");
        members.values().forEach(array::add);
        return snapshot;
    }

    private void closeWatch() {
        InputStream body = watchBody;
        if (body != null) {
            try {
                body.close();
            } catch (IOException | RuntimeException e) {
                // The reader fails either way, which is the point.
            }
        }
    }

    private void broadcast(String encoded) {
        for (BlockingQueue<String> queue : subscribers) {
            if (!queue.offer(encoded)) {
                subscribers.remove(queue);
                queue.clear();
                queue.offer(ConsoleServer.END_OF_STREAM);
            }
        }
    }

    /** One server-sent event; the data is one line of JSON (JSON escapes line breaks). */
    private String event(String type, JsonNode data) {
        return "event: " + type + "\ndata: " + json.writeValueAsString(data) + "\n\n";
    }
}
