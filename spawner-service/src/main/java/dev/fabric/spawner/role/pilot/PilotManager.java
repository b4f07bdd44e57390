package dev.fabric.spawner.role.pilot;

import dev.fabric.core.pilot.PilotState;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.client.RequestBatches;
import dev.fabric.core.problem.Problem;
import dev.fabric.core.queue.QueueWire;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import dev.fabric.spawner.role.agent.AgentSettings;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.http.HttpStatus;
import org.springframework.web.client.RestClientResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pilot manager's work, apart from its HTTP API: pilots launched, supervised and ended, tasks
 * accepted, put in their pilot's queue and followed to their final state on its events topic.
 * Every change is journaled ({@link PilotJournal}) before anyone hears of it, so a manager
 * restarted under its id carries on where it stopped (docs/roles.md "pilot-manager").
 *
 * <p>Threads: one supervision loop for every pilot; per ACTIVE pilot an enqueuer (NEW tasks into
 * its queue) and a follower (its events topic). All are virtual threads. {@link #close()} stops
 * them and waits for them ({@link #CLOSE_PATIENCE} at most) before it closes the journal and the
 * client: what a thread was doing when it was stopped is journaled, not cut off.
 */
final class PilotManager implements Closeable {

    static final String QUEUE = "queue";
    static final String PUBSUB = "pubsub";
    static final String AGENT = "agent";
    static final Set<String> RERUN_POLICIES = Set.of("rerun", "fail");
    static final int MAX_AGENTS = 64;
    /** A host name as a spawn request takes it ({@code SpawnRequest#host}). */
    static final String HOST_PATTERN = "[a-z0-9][a-z0-9-]{0,62}";
    static final int MAX_CORES = 256;
    static final int MAX_BULK = 10_000;
    /**
     * How many tasks a pilot's enqueuer puts in its queue with one request at most. Their bytes are
     * bounded too: the request's JSON by the queue member's max-body-size, which its spawner hands
     * it as it hands this member its own ({@link PilotFabric#maxBodyBytes()}), and by the 8 MiB of
     * bodies the queue takes in one request ({@link #QUEUE_BULK_BYTES}).
     */
    static final int ENQUEUE_BATCH = 500;
    static final long QUEUE_BULK_BYTES = 8L << 20;

    /** The reason of a task FAILED because no queue request can carry it (docs/tasks.md). */
    static final String REASON_TOO_LARGE = "task-too-large";

    /** Reasons of the final states the manager gives tasks itself. */
    static final String REASON_PILOT_ENDED = "pilot-ended";
    static final String REASON_PILOT_CANCELED = "pilot-canceled";
    static final String REASON_PILOT_FAILED = "pilot-failed";

    /** How long a close waits for its threads to end before it closes the journal and the client under them. */
    static final Duration CLOSE_PATIENCE = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(PilotManager.class);
    private static final Set<InstanceState> GONE = Set.of(InstanceState.LOST, InstanceState.STOPPED);

    private final String managerId;
    private final PilotFabric fabric;
    private final PilotSettings settings;
    private final Clock clock;
    private final JsonMapper json;
    private final PilotJournal journal;
    private final TaskBook book;
    private final Map<String, PilotWire.Pilot> pilots;
    private final Map<String, AtomicLong> eventOffsets;
    private final Map<String, Workers> workers = new ConcurrentHashMap<>();
    private final Object finals = new Object();
    /** Wakes the supervision loop before its interval: a new pilot to launch. */
    private final Object tick = new Object();
    private final Object round = new Object();
    /** Pilots being ended: one ending at a time for each (a cancel and the runtime limit may meet). */
    private final Set<String> ending = ConcurrentHashMap.newKeySet();
    /** False once its member stops the pilots' members at shutdown ({@link #stopWorking}). */
    private volatile boolean supervising = true;
    private Thread supervision;

    private PilotManager(String managerId, PilotFabric fabric, PilotSettings settings, Clock clock, JsonMapper json, PilotJournal journal,
                         TaskBook book, Map<String, PilotWire.Pilot> pilots, Map<String, AtomicLong> eventOffsets) {
        this.managerId = managerId;
        this.fabric = fabric;
        this.settings = settings;
        this.clock = clock;
        this.json = json;
        this.journal = journal;
        this.book = book;
        this.pilots = pilots;
        this.eventOffsets = eventOffsets;
    }

    /**
     * Opens the journal in {@code dataDirectory} and replays it.
     *
     * @param mustExist a restart: the journal must be there
     */
    static PilotManager open(String managerId, Path dataDirectory, boolean mustExist, PilotFabric fabric, PilotSettings settings,
                             Clock clock, JsonMapper json) throws IOException, PilotJournal.CorruptException {
        TaskBook book = new TaskBook();
        Map<String, PilotWire.Pilot> pilots = new LinkedHashMap<>();
        Map<String, AtomicLong> offsets = new ConcurrentHashMap<>();
        PilotJournal journal = PilotJournal.open(dataDirectory, mustExist, json, record -> {
            switch (record) {
                case PilotRecord.PilotSaved(PilotWire.Pilot pilot) -> pilots.put(pilot.id(), pilot);
                case PilotRecord.TasksAccepted(String pilot, String session, Instant at, List<TaskDescription> tasks) ->
                        book.accept(session, at, tasks);
                case PilotRecord.TasksQueued(String pilot, List<String> ids, List<String> messages) -> book.queued(ids, messages);
                case PilotRecord.TaskEnded(TaskEvent event, long sequence, Long next) -> {
                    book.end(event, sequence);
                    if (next != null) {
                        offsets.computeIfAbsent(event.pilot(), p -> new AtomicLong()).accumulateAndGet(next, Math::max);
                    }
                }
                case PilotRecord.Compacted(Instant at, long lastSequence, Map<String, Long> eventOffsets) -> {
                    book.sequencedUpTo(lastSequence);
                    eventOffsets.forEach((pilot, next) -> offsets.computeIfAbsent(pilot, p -> new AtomicLong())
                            .accumulateAndGet(next, Math::max));
                }
            }
        });
        return new PilotManager(managerId, fabric, settings, clock, json, journal, book, pilots, offsets);
    }

    /** Starts supervising: pilots that were launching or active before a restart carry on. */
    synchronized void start() {
        for (PilotWire.Pilot pilot : pilots.values()) {
            if (pilot.state() == PilotState.ACTIVE) {
                startWorkers(pilot);
            }
        }
        supervision = Thread.ofVirtual().name("pilot-supervision").start(this::superviseLoop);
    }

    Path journalFile() {
        return journal.file();
    }

    // ---- pilots ------------------------------------------------------------------------------

    /** {@code POST /pilots/v1/pilots}: checks the description and journals the pilot NEW; the supervision loop spawns its members. */
    PilotWire.Pilot create(PilotWire.PilotDescription requested) {
        PilotWire.PilotDescription description = checked(requested);
        if (description.where().member() != null) {
            ServiceInstance spawner = memberOrNull(description.where().member());
            if (spawner == null) {
                throw new SpawnerException(HttpStatus.NOT_FOUND, "unknown-member", "where.member names '" + description.where().member()
                        + "', which is not in the registry; name a running member (fabric services) or leave 'where' out");
            }
            if (spawner.state() != InstanceState.RUNNING) {
                throw new SpawnerException(HttpStatus.CONFLICT, "member-not-running", "where.member " + spawner.id() + " is "
                        + spawner.state() + "; only a RUNNING member spawns agents");
            }
        }
        String id = "pilot-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Instant now = clock.instant();
        PilotWire.Pilot pilot = new PilotWire.Pilot(id, PilotState.NEW, null, description, List.of(), null, null, "tasks." + id,
                "control." + id, now, null, null, null, List.of(), Map.of());
        save(pilot);
        log.info("pilot {}: accepted ({} agents of {} cores, where {}, runtime {})", id, description.agents(), description.cores(),
                describe(description.where()), description.runtime());
        // The members are spawned by the supervision loop, not in this request: a spawn may take long under load,
        // and a request that timed out would be sent again by a fail-over client, placing a second pilot.
        wakeSupervision();
        return view(pilot);
    }

    private PilotWire.PilotDescription checked(PilotWire.PilotDescription description) {
        if (description == null) {
            throw invalid("invalid-pilot", "the request needs a pilot description, e.g. {\"agents\": 2, \"cores\": 1, \"runtime\": \"1h\"}");
        }
        int agents = description.agents() == null ? 1 : description.agents();
        int cores = description.cores() == null ? 1 : description.cores();
        if (agents < 1 || agents > MAX_AGENTS) {
            throw invalid("invalid-pilot", "agents must be 1 to " + MAX_AGENTS + ", not " + agents);
        }
        if (cores < 1 || cores > MAX_CORES) {
            throw invalid("invalid-pilot", "cores must be 1 to " + MAX_CORES + ", not " + cores);
        }
        if (description.runtime() != null) {
            Optional<Duration> runtime = PilotSettings.durationOf(description.runtime());
            if (runtime.isEmpty() || runtime.get().isNegative() || runtime.get().isZero()) {
                throw invalid("invalid-pilot", "runtime must be a positive duration such as 30m or 2h (or absent: until canceled), not '"
                        + description.runtime() + "'");
            }
        }
        String policy = description.rerunPolicy() == null ? "rerun" : description.rerunPolicy();
        if (!RERUN_POLICIES.contains(policy)) {
            throw invalid("invalid-pilot", "rerunPolicy must be 'rerun' or 'fail', not '" + policy + "'");
        }
        PilotWire.Where where = description.where() == null ? PilotWire.Where.MANAGER : description.where();
        if (where.member() != null && where.host() != null) {
            throw invalid("invalid-pilot", "where names a member and a host; name one: {\"member\": \"ID\"} or {\"host\": \"compute-1\"}");
        }
        if (where.member() != null && !where.member().matches(Ids.PATTERN)) {
            throw invalid("invalid-pilot", "where.member '" + where.member() + "' " + Ids.MESSAGE);
        }
        checkPlacement(where, agents);
        return new PilotWire.PilotDescription(agents, cores, where, description.runtime(), policy);
    }

    /** The hosts, the bridge and the bootstrap mode of a placement: each named as a spawn request takes it. */
    private static void checkPlacement(PilotWire.Where where, int agents) {
        if (where.hosts() != null) {
            if (where.host() != null || where.member() != null) {
                throw invalid("invalid-pilot", "where names hosts and a " + (where.host() != null ? "host" : "member")
                        + "; name one: {\"hosts\": [\"compute-1\", \"compute-2\"]}, {\"host\": \"compute-1\"} or {\"member\": \"ID\"}");
            }
            if (where.hosts().isEmpty() || where.hosts().size() > agents) {
                throw invalid("invalid-pilot", "where.hosts names " + where.hosts().size() + " hosts for " + agents
                        + " agents; name 1 to " + agents + " (each host gets at least one agent)");
            }
        }
        List<String> hosts = where.hosts() != null ? where.hosts() : where.host() != null ? List.of(where.host()) : List.of();
        for (String host : hosts) {
            if (host == null || !host.matches(HOST_PATTERN)) {
                throw invalid("invalid-pilot", "where names the host '" + host + "'; a host is named by 1 to 63 lower-case letters, "
                        + "digits and '-', as in the manager's spawner settings (fabric.spawner.ssh.hosts.NAME)");
            }
        }
        if (where.via() != null && !isRelayUrl(where.via())) {
            throw invalid("invalid-pilot", "where.via '" + where.via() + "' is not a bridge's relay URL, http://host:port "
                    + "(fabric service BRIDGE-ID shows it as its relay endpoint)");
        }
        if (where.connectivity() == Connectivity.SPLICED) {
            throw invalid("invalid-pilot", "where.connectivity SPLICED is not available; use DIRECT, FIREWALL_TO_SERVICE (the spawner "
                    + "cannot dial the agents: their bootstrap goes through where.via) or FIREWALL_FROM_SERVICE");
        }
        if (where.connectivity() == Connectivity.FIREWALL_TO_SERVICE && where.via() == null) {
            throw invalid("invalid-pilot", "where.connectivity FIREWALL_TO_SERVICE needs where.via: agents nothing may dial are "
                    + "configured through the bridge whose relay URL via names");
        }
    }

    private static boolean isRelayUrl(String url) {
        try {
            URI uri = URI.create(url);
            return "http".equals(uri.getScheme()) && uri.getHost() != null && uri.getPort() > 0
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Spawns what the pilot lacks (all of it at first; the rest after a restart mid-launch), journaling each member. */
    private PilotWire.Pilot launch(PilotWire.Pilot pilot) {
        PilotWire.Pilot current = pilot;
        if (current.state() == PilotState.NEW) {
            current = save(with(current, PilotState.LAUNCHING, null));
        }
        if (current.queue() == null) {
            String queue = fabric.spawn(PilotWire.Where.MANAGER, QUEUE, current.id() + "-queue", Map.of());
            current = save(members(current, current.agents(), queue, current.pubsub(), current.replaced()));
        }
        if (current.pubsub() == null) {
            String pubsub = fabric.spawn(PilotWire.Where.MANAGER, PUBSUB, current.id() + "-pubsub",
                    Map.of("retention-count", Long.toString(settings.retentionCount())));
            current = save(members(current, current.agents(), current.queue(), pubsub, current.replaced()));
        }
        while (current.agents().size() < current.description().agents()) {
            String agent = spawnAgent(current, current.agents().size());
            List<String> agents = new ArrayList<>(current.agents());
            agents.add(agent);
            current = save(members(current, agents, current.queue(), current.pubsub(), current.replaced()));
        }
        log.info("pilot {}: LAUNCHING queue {}, pubsub {}, agents {}", current.id(), current.queue(), current.pubsub(), current.agents());
        return current;
    }

    /** Spawns the agent for slot {@code slot} (from 0) of the pilot: on its host of the placement, through its bridge. */
    private String spawnAgent(PilotWire.Pilot pilot, int slot) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("cores", Integer.toString(pilot.description().cores()));
        config.put("queue", pilot.queue());
        config.put("pubsub", pilot.pubsub());
        config.put("topic", pilot.topic());
        config.put("pilot", pilot.id());
        config.put("rerun-policy", pilot.description().rerunPolicy());
        config.put("prefetch", Integer.toString(settings.agentPrefetch()));
        if (!settings.agentPrefetchHorizon().equals(AgentSettings.DEFAULT_PREFETCH_HORIZON)) {
            // Only when set: an agent that predates the setting still takes the spawn.
            config.put(AgentSettings.PREFETCH_HORIZON, DurationStyle.SIMPLE.print(settings.agentPrefetchHorizon(), ChronoUnit.MILLIS));
        }
        PilotWire.Where where = pilot.description().where() == null ? PilotWire.Where.MANAGER : pilot.description().where();
        if (where.via() != null) {
            config.put("via", where.via());
        }
        return fabric.spawn(where.forAgent(slot), AGENT, pilot.id() + "-agent", config);
    }

    synchronized List<PilotWire.Pilot> list() {
        return pilots.values().stream().map(this::view).toList();
    }

    /** A pilot, or 404 {@code unknown-pilot}. */
    PilotWire.Pilot pilot(String id) {
        return view(get(id));
    }

    private synchronized PilotWire.Pilot get(String id) {
        PilotWire.Pilot pilot = pilots.get(id);
        if (pilot == null) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "unknown-pilot", "no pilot '" + id + "' on pilot manager " + managerId
                    + "; fabric pilot list shows its pilots");
        }
        return pilot;
    }

    /** {@code DELETE /pilots/v1/pilots/{id}}: its members stopped, its unfinished tasks CANCELED, the pilot CANCELED. */
    PilotWire.Pilot cancel(String id) {
        PilotWire.Pilot pilot = get(id);
        if (pilot.state().isFinal()) {
            return view(pilot);
        }
        return view(end(pilot, PilotState.CANCELED, "canceled on request"));
    }

    private PilotWire.Pilot view(PilotWire.Pilot pilot) {
        return new PilotWire.Pilot(pilot.id(), pilot.state(), pilot.reason(), pilot.description(), pilot.agents(), pilot.queue(),
                pilot.pubsub(), pilot.topic(), pilot.control(), pilot.createdAt(), pilot.activeAt(), pilot.endsAt(), pilot.endedAt(),
                pilot.replaced(), book.counts(pilot.id()));
    }

    /**
     * Ends a pilot: stops its agents, reads its events to their end, gives its unfinished tasks a
     * final state, stops its queue and pubsub, and journals the pilot's final state.
     */
    private PilotWire.Pilot end(PilotWire.Pilot pilot, PilotState state, String reason) {
        synchronized (this) {
            PilotWire.Pilot now = pilots.get(pilot.id());
            if (now == null || now.state().isFinal() || !ending.add(pilot.id())) {
                return now;
            }
        }
        try {
            return endNow(pilot, state, reason);
        } finally {
            ending.remove(pilot.id());
        }
    }

    private PilotWire.Pilot endNow(PilotWire.Pilot pilot, PilotState state, String reason) {
        log.info("pilot {}: ending {} ({})", pilot.id(), state, reason);
        stopAll(pilot.agents());
        Workers running = workers.remove(pilot.id());
        if (running != null) {
            running.drainAndStop(pilot);
        }
        String taskReason = switch (state) {
            case CANCELED -> REASON_PILOT_CANCELED;
            case FAILED -> REASON_PILOT_FAILED;
            default -> REASON_PILOT_ENDED;
        };
        TaskState taskState = state == PilotState.FAILED ? TaskState.FAILED : TaskState.CANCELED;
        for (TaskDescription task : book.inState(pilot.id(), TaskState.NEW, TaskState.QUEUED, TaskState.RUNNING)) {
            recordFinal(TaskEvent.of(task.id(), pilot.id(), taskState, null, 0, clock.instant(), taskReason,
                    "pilot " + pilot.id() + " ended " + state + " before the task finished: " + reason), null);
        }
        stopAll(java.util.stream.Stream.of(pilot.queue(), pilot.pubsub()).filter(java.util.Objects::nonNull).toList());
        PilotWire.Pilot ended = new PilotWire.Pilot(pilot.id(), state, reason, pilot.description(), pilot.agents(), pilot.queue(),
                pilot.pubsub(), pilot.topic(), pilot.control(), pilot.createdAt(), pilot.activeAt(), pilot.endsAt(), clock.instant(),
                pilot.replaced(), Map.of());
        return save(ended);
    }

    /**
     * Stops members all at once: each stop may wait for its member's graceful exit (its spawner's stop-grace), and one
     * after the other they outlasted a client's request timeout, whose fail-over then restarted the manager mid-cancel.
     */
    private void stopAll(List<String> members) {
        try (var stops = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            members.forEach(member -> stops.submit(() -> stopQuietly(member)));
        }
    }

    private void stopQuietly(String member) {
        try {
            fabric.stop(member);
        } catch (RuntimeException e) {
            log.warn("could not stop member {}: {}", member, e.getMessage());
        }
    }

    // ---- supervision ---------------------------------------------------------------------------

    private void wakeSupervision() {
        synchronized (tick) {
            tick.notifyAll();
        }
    }

    /**
     * Stops the supervision loop and every pilot's workers and waits for them (its member is about to
     * stop the pilots' members at its shutdown): from then on no pilot is launched, no agent replaced,
     * no pilot ended by a round, no member asked to restart by a worker that lost it; the pilots stay
     * as the journal has them, for the next incarnation to carry on. A batch the queue has taken is
     * journaled QUEUED, a final state read is journaled. The API goes on serving until {@link #close}.
     */
    void stopWorking() {
        supervising = false;
        Thread loop;
        synchronized (this) {
            loop = supervision;
        }
        if (loop != null) {
            // First: a round that activates a pilot starts its workers.
            loop.interrupt();
            awaitEnd(List.of(loop), CLOSE_PATIENCE);
        }
        List<Thread> threads = new ArrayList<>();
        for (Workers pilotWorkers : workers.values()) {
            pilotWorkers.stop();
            threads.addAll(pilotWorkers.threads());
        }
        workers.clear();
        awaitEnd(threads, CLOSE_PATIENCE);
    }

    private void superviseLoop() {
        while (supervising) {
            try {
                synchronized (tick) {
                    tick.wait(settings.superviseInterval().toMillis());
                }
                supervise();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("pilot supervision: {}", e.toString());
            }
        }
    }

    /** One round: launches that finished or failed, lost agents, runtime limits; one round at a time. */
    void supervise() {
        synchronized (round) {
            if (supervising) {
                superviseRound();
            }
        }
    }

    private void superviseRound() {
        try {
            compactIfDue();
        } catch (IOException | RuntimeException e) {
            log.warn("pilot journal {}: compaction failed ({}); the journal is as it was, and the next round tries again", journal.file(),
                    e.toString());
        }
        List<PilotWire.Pilot> open;
        synchronized (this) {
            // A pilot being ended is the ending's alone: its agents stop on purpose, and none is replaced.
            open = pilots.values().stream().filter(p -> !p.state().isFinal() && !ending.contains(p.id())).toList();
        }
        for (PilotWire.Pilot pilot : open) {
            if (!supervising) {
                return;
            }
            try {
                switch (pilot.state()) {
                    case NEW, LAUNCHING -> superviseLaunch(pilot);
                    case ACTIVE -> superviseActive(pilot);
                    default -> { }
                }
            } catch (RuntimeException e) {
                log.warn("pilot {}: supervision failed this round: {}", pilot.id(), e.toString());
            }
        }
    }

    /**
     * The retention rule: a pilot that ended more than {@code finished-pilot-retention} ago is
     * forgotten with its tasks, and the journal is compacted to what is left. Answers whether it compacted.
     */
    boolean compactIfDue() throws IOException {
        Instant cutoff = clock.instant().minus(settings.finishedPilotRetention());
        Set<String> expired;
        synchronized (this) {
            expired = pilots.values().stream().filter(p -> p.state().isFinal())
                    .filter(p -> (p.endedAt() != null ? p.endedAt() : p.createdAt()).isBefore(cutoff))
                    .filter(p -> !ending.contains(p.id())).map(PilotWire.Pilot::id)
                    .collect(java.util.stream.Collectors.toCollection(java.util.LinkedHashSet::new));
        }
        if (expired.isEmpty()) {
            return false;
        }
        compact(expired);
        return true;
    }

    /**
     * Rewrites the journal as a snapshot of the pilots and tasks kept, without those of {@code forget}
     * (which then leave memory too), so a restart recovers exactly what is kept. Every write to the
     * journal pairs with its change in memory under the manager's lock or the finals' lock; both are
     * held here, so the snapshot misses no write. The snapshot, in replay order: a {@link
     * PilotRecord.Compacted} marker (the last final-state sequence given, the events offsets), each
     * pilot, its tasks as accepted (grouped by session and time), those in the queue, and the final
     * states in the order of their sequence.
     */
    private void compact(Set<String> forget) throws IOException {
        synchronized (this) {
            synchronized (finals) {
                long before = journal.size();
                List<PilotRecord> snapshot = new ArrayList<>();
                Map<String, Long> offsets = new LinkedHashMap<>();
                eventOffsets.forEach((pilot, next) -> {
                    if (!forget.contains(pilot)) {
                        offsets.put(pilot, next.get());
                    }
                });
                snapshot.add(new PilotRecord.Compacted(clock.instant(), book.lastSequence(), offsets));
                pilots.values().stream().filter(p -> !forget.contains(p.id())).forEach(p -> snapshot.add(new PilotRecord.PilotSaved(
                        new PilotWire.Pilot(p.id(), p.state(), p.reason(), p.description(), p.agents(), p.queue(), p.pubsub(), p.topic(),
                                p.control(), p.createdAt(), p.activeAt(), p.endsAt(), p.endedAt(), p.replaced(), null))));
                List<TaskBook.Entry> kept = book.entries().stream().filter(e -> !forget.contains(e.description.pilot())).toList();
                List<TaskDescription> group = new ArrayList<>();
                TaskBook.Entry first = null;
                for (TaskBook.Entry entry : kept) {
                    if (first != null && !(first.description.pilot().equals(entry.description.pilot())
                            && java.util.Objects.equals(first.session, entry.session) && first.submittedAt.equals(entry.submittedAt))) {
                        snapshot.add(new PilotRecord.TasksAccepted(first.description.pilot(), first.session, first.submittedAt, group));
                        group = new ArrayList<>();
                    }
                    if (group.isEmpty()) {
                        first = entry;
                    }
                    group.add(entry.description);
                }
                if (!group.isEmpty()) {
                    snapshot.add(new PilotRecord.TasksAccepted(first.description.pilot(), first.session, first.submittedAt, group));
                }
                Map<String, List<TaskBook.Entry>> queued = new LinkedHashMap<>();
                List<TaskBook.Entry> ended = new ArrayList<>();
                for (TaskBook.Entry entry : kept) {
                    if (entry.state.isFinal()) {
                        ended.add(entry);
                    } else if (entry.state != TaskState.NEW) {
                        queued.computeIfAbsent(entry.description.pilot(), p -> new ArrayList<>()).add(entry);
                    }
                }
                queued.forEach((pilot, entries) -> snapshot.add(new PilotRecord.TasksQueued(pilot,
                        entries.stream().map(e -> e.description.id()).toList(), entries.stream().map(e -> e.message).toList())));
                ended.sort(java.util.Comparator.comparingLong(e -> e.sequence));
                ended.forEach(e -> snapshot.add(new PilotRecord.TaskEnded(e.last, e.sequence, null)));
                journal.rewrite(snapshot);
                int dropped = 0;
                for (String pilot : forget) {
                    pilots.remove(pilot);
                    eventOffsets.remove(pilot);
                    dropped += book.forget(pilot);
                }
                log.info("pilot journal {}: compacted from {} to {} bytes; forgot {} pilots ended more than {} ago and their {} tasks",
                        journal.file(), before, journal.size(), forget.size(), settings.finishedPilotRetention(), dropped);
            }
        }
    }

    private void superviseLaunch(PilotWire.Pilot pilot) {
        PilotWire.Pilot current = pilot;
        if (current.queue() == null || current.pubsub() == null || current.agents().size() < current.description().agents()) {
            // A new pilot, or a restart mid-launch: spawn what is missing.
            try {
                current = launch(current);
            } catch (RuntimeException e) {
                end(get(pilot.id()), PilotState.FAILED, "could not spawn its members (" + describe(e) + "); what was spawned was "
                        + "stopped. Check where it was to run (fabric services) and the log of " + managerId + " (fabric log " + managerId + ")");
                return;
            }
        }
        List<String> members = new ArrayList<>(current.agents());
        members.add(current.queue());
        members.add(current.pubsub());
        boolean allRunning = true;
        for (String id : members) {
            ServiceInstance member = fabric.member(id);
            if (current.agents().contains(id) && (GONE.contains(member.state()) || member.state() == InstanceState.FAILED)) {
                // An agent that could not bootstrap (a machine too loaded to start it in time) is replaced, as a lost one is.
                stopQuietly(id);
                replace(current, id, member);
                return;
            }
            if (GONE.contains(member.state()) || member.state() == InstanceState.FAILED) {
                end(current, PilotState.FAILED, "member " + id + " (" + member.type() + ") is " + member.state() + " while launching"
                        + (member.stateReason() == null ? "" : ": " + member.stateReason()));
                return;
            }
            allRunning &= member.state() == InstanceState.RUNNING;
        }
        if (allRunning) {
            Instant now = clock.instant();
            Instant endsAt = current.description().runtime() == null ? null
                    : now.plus(PilotSettings.durationOf(current.description().runtime()).orElseThrow());
            PilotWire.Pilot active = save(new PilotWire.Pilot(current.id(), PilotState.ACTIVE, null, current.description(),
                    current.agents(), current.queue(), current.pubsub(), current.topic(), current.control(), current.createdAt(), now,
                    endsAt, null, current.replaced(), Map.of()));
            log.info("pilot {}: ACTIVE{}", active.id(), endsAt == null ? "" : " until " + endsAt);
            startWorkers(active);
        } else if (Duration.between(current.createdAt(), clock.instant()).compareTo(settings.launchTimeout()) > 0) {
            end(current, PilotState.FAILED, "its members were not all RUNNING within the launch timeout of " + settings.launchTimeout());
        }
    }

    private void superviseActive(PilotWire.Pilot pilot) {
        if (pilot.endsAt() != null && !clock.instant().isBefore(pilot.endsAt())) {
            end(pilot, PilotState.DONE, "its runtime of " + pilot.description().runtime() + " is over");
            return;
        }
        for (String id : List.of(pilot.queue(), pilot.pubsub())) {
            ServiceInstance member = fabric.member(id);
            if (GONE.contains(member.state())) {
                end(pilot, PilotState.FAILED, member.type() + " " + id + " is " + member.state()
                        + (member.stateReason() == null ? "" : " (" + member.stateReason() + ")") + ": the pilot's tasks are gone with it");
                return;
            }
        }
        for (String agent : pilot.agents()) {
            ServiceInstance member = fabric.member(agent);
            if (GONE.contains(member.state()) || member.state() == InstanceState.FAILED) {
                replace(pilot, agent, member);
                return;
            }
        }
    }

    /**
     * The replacement policy: an agent LOST, FAILED (it could not bootstrap or recover) or stopped by someone else is replaced by a fresh one
     * with the same settings, up to {@code max-replacements} per pilot; the tasks it held come back
     * to the queue when their leases run out, and run again elsewhere.
     */
    private void replace(PilotWire.Pilot pilot, String lost, ServiceInstance member) {
        if (pilot.replaced().size() >= settings.maxReplacements()) {
            end(pilot, PilotState.FAILED, "agent " + lost + " is " + member.state() + " and " + pilot.replaced().size()
                    + " agents were replaced already (max-replacements " + settings.maxReplacements() + ")");
            return;
        }
        String replacement = spawnAgent(pilot, pilot.agents().indexOf(lost));
        List<String> agents = new ArrayList<>(pilot.agents());
        agents.set(agents.indexOf(lost), replacement);
        List<PilotWire.Replacement> replaced = new ArrayList<>(pilot.replaced());
        replaced.add(new PilotWire.Replacement(lost, replacement, clock.instant()));
        boolean ended;
        synchronized (this) {
            // Ended, or being ended, while the replacement was spawned: the ending stops the agents it knows of, not this one,
            // and a save now would overwrite its final state.
            PilotWire.Pilot now = pilots.get(pilot.id());
            ended = now == null || now.state().isFinal() || ending.contains(pilot.id());
            if (!ended) {
                save(members(pilot, agents, pilot.queue(), pilot.pubsub(), replaced));
            }
        }
        if (ended) {
            log.info("pilot {}: ended while agent {} replaced {}; stopping it", pilot.id(), replacement, lost);
            stopQuietly(replacement);
            return;
        }
        log.info("pilot {}: agent {} is {} ({}); replaced by {}", pilot.id(), lost, member.state(), member.stateReason(), replacement);
    }

    // ---- tasks ---------------------------------------------------------------------------------

    /** {@code POST /pilots/v1/pilots/{id}/tasks}: checks every description, journals them NEW, answers their ids. */
    PilotWire.Submitted submit(String pilotId, PilotWire.Submission submission) {
        PilotWire.Pilot pilot = get(pilotId);
        if (pilot.state().isFinal()) {
            throw new SpawnerException(HttpStatus.CONFLICT, "pilot-ended", "pilot " + pilotId + " is " + pilot.state()
                    + (pilot.reason() == null ? "" : " (" + pilot.reason() + ")") + " and takes no more tasks; submit to an active pilot");
        }
        if (submission == null || submission.tasks() == null || submission.tasks().isEmpty()) {
            throw invalid(TaskDescription.INVALID, "the request needs {\"tasks\": [{\"command\": [\"echo\", \"hi\"]}, ...]} with at least one task");
        }
        if (submission.tasks().size() > MAX_BULK) {
            throw invalid(TaskDescription.INVALID, "a submission holds up to " + MAX_BULK + " tasks, not " + submission.tasks().size()
                    + "; submit in several requests");
        }
        if (submission.session() != null && !submission.session().matches(Ids.PATTERN)) {
            throw invalid("invalid-request", "session '" + submission.session() + "' " + Ids.MESSAGE);
        }
        List<TaskDescription> tasks = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        Set<String> proposed = new HashSet<>();
        for (int i = 0; i < submission.tasks().size(); i++) {
            TaskDescription given = submission.tasks().get(i);
            if (given == null) {
                throw invalid(TaskDescription.INVALID, "task " + i + " of the submission is null");
            }
            if (given.pilot() != null && !given.pilot().equals(pilotId)) {
                throw invalid(TaskDescription.INVALID, "task " + i + " names pilot " + given.pilot() + " but is submitted to " + pilotId);
            }
            TaskDescription task = (given.id() == null ? given.withId(newTaskId()) : given).withPilot(pilotId);
            // A task that proposed no id is named by its place, not by the id made up for it here and
            // thrown away with the refusal: its writer never saw that id.
            boolean bulk = submission.tasks().size() > 1;
            Optional<String> invalidity = given.id() != null ? task.invalidity()
                    : task.invalidity(bulk ? "task " + i + " of the submission" : "the task");
            if (invalidity.isPresent()) {
                throw invalid(TaskDescription.INVALID, (bulk && given.id() != null ? "task " + i + " of the submission: " : "")
                        + invalidity.get() + "; nothing of this submission was accepted");
            }
            String body = json.writeValueAsString(task);
            Optional<String> tooLarge = tooLargeForTheQueue(body, escapedBytes(body));
            if (tooLarge.isPresent()) {
                throw invalid(TaskDescription.INVALID, (bulk ? "task " + i + " of the submission" : "the task") + " is too large: "
                        + tooLarge.get() + "; nothing of this submission was accepted");
            }
            if (given.id() != null && !proposed.add(given.id())) {
                throw invalid(TaskDescription.INVALID, "task " + i + " of the submission proposes id " + given.id()
                        + ", which an earlier task of it proposed too; nothing of this submission was accepted");
            }
            Optional<TaskBook.Entry> known = book.get(task.id());
            if (known.isPresent() && !known.get().description.pilot().equals(pilotId)) {
                throw new SpawnerException(HttpStatus.CONFLICT, "task-exists", "task id " + task.id() + " belongs to pilot "
                        + known.get().description.pilot() + "; propose another id or none");
            }
            tasks.add(task);
            ids.add(task.id());
        }
        long finalsAfter;
        synchronized (this) {
            List<TaskDescription> fresh = book.unknown(tasks);
            // Read before they are accepted, every final of these tasks comes after it; a task known
            // already (a retried submission) may have ended before, so then the feed's start.
            finalsAfter = fresh.size() == tasks.size() ? book.lastSequence() : 0;
            Instant now = clock.instant();
            append(new PilotRecord.TasksAccepted(pilotId, submission.session(), now, fresh));
            book.accept(submission.session(), now, fresh);
        }
        Workers running = workers.get(pilotId);
        if (running != null) {
            running.wake();
        }
        return new PilotWire.Submitted(ids, finalsAfter);
    }

    private static String newTaskId() {
        return "t-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    /** A task, or 404 {@code unknown-task}. */
    PilotWire.Task task(String id) {
        return book.view(id).orElseThrow(() -> unknownTask(id));
    }

    TaskBook tasks() {
        return book;
    }

    /** {@code GET /pilots/v1/pilots/{id}/tasks}. */
    List<PilotWire.Task> tasks(String pilotId, String session, TaskState state) {
        get(pilotId);
        return book.list(pilotId, session, state);
    }

    /**
     * {@code POST /pilots/v1/tasks/{id}/cancel}: a task not yet in the queue is CANCELED at once; so is
     * one in the queue that no agent holds, once its message is withdrawn from the queue (nobody will
     * run it). For one an agent holds (waiting for a core, or running), or when the queue cannot be
     * asked, the cancel is published on the pilot's control topic and the agent that holds it, or
     * takes it later, publishes CANCELED.
     */
    PilotWire.Task cancelTask(String id) {
        TaskBook.Entry entry = book.get(id).orElseThrow(() -> unknownTask(id));
        PilotWire.Task now = task(id);
        if (now.isFinal()) {
            throw new SpawnerException(HttpStatus.CONFLICT, "task-final", "task " + id + " is " + now.state() + " already"
                    + (now.reason() == null ? "" : " (" + now.reason() + ")") + "; a final state does not change");
        }
        PilotWire.Pilot pilot = get(entry.description.pilot());
        if (now.state() == TaskState.NEW) {
            recordFinal(TaskEvent.of(id, pilot.id(), TaskState.CANCELED, null, 0, clock.instant(), TaskEvent.REASON_CANCELED_QUEUED,
                    "canceled before it was put in the pilot's queue"), null);
        } else if (now.state() == TaskState.QUEUED && withdrawn(pilot, id, entry.message)) {
            recordFinal(TaskEvent.of(id, pilot.id(), TaskState.CANCELED, null, 0, clock.instant(), TaskEvent.REASON_CANCELED_QUEUED,
                    "canceled in the pilot's queue, before an agent took it"), null);
            return task(id);
        }
        if (pilot.pubsub() != null && pilot.state() == PilotState.ACTIVE) {
            fabric.publish(pilot.pubsub(), pilot.control(), List.of(json.writeValueAsString(Map.of("cancel", id))));
        }
        return task(id);
    }

    /** A failure in words: a node's refusal by its problem's detail and reason, not the raw JSON of its answer. */
    private static String describe(RuntimeException e) {
        if (e instanceof RestClientResponseException refused) {
            return Problem.decode(refused, "the node that spawns them").message();
        }
        return e.getMessage();
    }

    /** Whether the task's message left its queue for good by this withdrawal (else its agent decides, told on the control topic). */
    private boolean withdrawn(PilotWire.Pilot pilot, String taskId, String message) {
        if (message == null || pilot.queue() == null || pilot.state() != PilotState.ACTIVE) {
            return false;
        }
        try {
            return fabric.withdraw(pilot.queue(), message);
        } catch (RuntimeException e) {
            log.warn("task {}: could not withdraw its message from queue {} ({}); its cancel goes to the agents", taskId, pilot.queue(),
                    e.getMessage());
            return false;
        }
    }

    /** {@code GET /pilots/v1/tasks/{id}/output}: what a task that ran printed; 409 while it runs or when it never ran. */
    PilotWire.Output output(String id) {
        TaskBook.Entry entry = book.get(id).orElseThrow(() -> unknownTask(id));
        PilotWire.Task task = task(id);
        TaskEvent end = entry.last;
        if (!task.isFinal()) {
            throw new SpawnerException(HttpStatus.CONFLICT, task.state() == TaskState.RUNNING ? "task-running" : "task-not-run",
                    "task " + id + " is " + task.state() + ": it has no output until it ends; fabric task wait " + id);
        }
        if (end == null || (end.exitStatus() == null && end.stdout() == null && end.stderr() == null)) {
            String state = task.state() + (task.reason() == null ? "" : " (" + task.reason() + ")");
            // A task whose agent died under it did run, but what it printed went with the agent.
            throw new SpawnerException(HttpStatus.CONFLICT, "task-not-run", TaskEvent.REASON_AGENT_LOST.equals(task.reason())
                    ? "task " + id + " is " + state + ": its agent was lost while it ran, and its output with it"
                    : "task " + id + " never ran: it is " + state + ", so it has no output");
        }
        return new PilotWire.Output(id, task.state(), end.exitStatus(), end.reason(), end.stdout() == null ? "" : end.stdout(),
                end.stderr() == null ? "" : end.stderr(), Boolean.TRUE.equals(end.stdoutTruncated()), Boolean.TRUE.equals(end.stderrTruncated()));
    }

    private SpawnerException unknownTask(String id) {
        return new SpawnerException(HttpStatus.NOT_FOUND, "unknown-task", "no task '" + id + "' on pilot manager " + managerId
                + "; fabric task list shows the tasks of a pilot");
    }

    /** Journals and records a task's first final state; false for a duplicate or an unknown task. */
    boolean recordFinal(TaskEvent event, Long next) {
        return recordFinals(List.of(new Final(event, next))) == 1;
    }

    /** A final event and the offset of its topic after it (null: not from a topic). */
    record Final(TaskEvent event, Long next) {}

    /**
     * Journals the first final states among {@code events} with one forced write (a group commit),
     * then records them; duplicates (of a recorded final state, or within the batch) and unknown tasks
     * are left out. Answers how many were recorded.
     */
    int recordFinals(List<Final> events) {
        synchronized (finals) {
            List<PilotRecord.TaskEnded> firsts = new ArrayList<>();
            Set<String> batch = new java.util.HashSet<>();
            long sequence = book.nextSequence();
            for (Final f : events) {
                if (book.endsFirst(f.event()) && batch.add(f.event().task())) {
                    firsts.add(new PilotRecord.TaskEnded(f.event(), sequence++, f.next()));
                }
            }
            append(firsts);
            int recorded = 0;
            for (PilotRecord.TaskEnded ended : firsts) {
                if (book.end(ended.event(), ended.sequence())) {
                    recorded++;
                }
            }
            return recorded;
        }
    }

    /** Messages of a pilot's events topic, in order: RUNNING events noted, the final states journaled together. */
    void onEvents(String pilotId, List<PilotFabric.Message> page) {
        List<Final> ends = new ArrayList<>();
        for (PilotFabric.Message message : page) {
            TaskEvent event;
            try {
                event = json.readValue(message.body(), TaskEvent.class);
            } catch (JacksonException e) {
                log.debug("pilot {}: event {} is not a task event: {}", pilotId, message.offset(), e.getOriginalMessage());
                continue;
            }
            if (event.task() == null || event.state() == null) {
                continue;
            }
            if (event.state().isFinal()) {
                ends.add(new Final(event, message.offset() + 1));
            } else if (event.state() == TaskState.RUNNING) {
                book.running(event);
            }
        }
        if (!ends.isEmpty()) {
            recordFinals(ends);
        }
        long next = page.getLast().offset() + 1;
        eventOffsets.computeIfAbsent(pilotId, p -> new AtomicLong()).accumulateAndGet(next, Math::max);
    }

    // ---- journal and records -----------------------------------------------------------------

    private synchronized PilotWire.Pilot save(PilotWire.Pilot pilot) {
        append(new PilotRecord.PilotSaved(new PilotWire.Pilot(pilot.id(), pilot.state(), pilot.reason(), pilot.description(),
                pilot.agents(), pilot.queue(), pilot.pubsub(), pilot.topic(), pilot.control(), pilot.createdAt(), pilot.activeAt(),
                pilot.endsAt(), pilot.endedAt(), pilot.replaced(), null)));
        pilots.put(pilot.id(), pilot);
        return pilot;
    }

    private void append(PilotRecord record) {
        append(List.of(record));
    }

    private void append(List<? extends PilotRecord> records) {
        try {
            journal.append(records);
        } catch (IOException e) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "journal-unavailable", "the pilot journal " + journal.file()
                    + " cannot be written (" + e.getMessage() + "); nothing was recorded: retry, and see the member's disk");
        }
    }

    private static PilotWire.Pilot with(PilotWire.Pilot p, PilotState state, String reason) {
        return new PilotWire.Pilot(p.id(), state, reason, p.description(), p.agents(), p.queue(), p.pubsub(), p.topic(), p.control(),
                p.createdAt(), p.activeAt(), p.endsAt(), p.endedAt(), p.replaced(), Map.of());
    }

    private static PilotWire.Pilot members(PilotWire.Pilot p, List<String> agents, String queue, String pubsub,
                                           List<PilotWire.Replacement> replaced) {
        return new PilotWire.Pilot(p.id(), p.state(), p.reason(), p.description(), List.copyOf(agents), queue, pubsub, p.topic(),
                p.control(), p.createdAt(), p.activeAt(), p.endsAt(), p.endedAt(), List.copyOf(replaced), Map.of());
    }

    private ServiceInstance memberOrNull(String id) {
        try {
            return fabric.member(id);
        } catch (RuntimeException e) {
            return null;
        }
    }

    static String describe(PilotWire.Where where) {
        String on = where.member() != null ? "member " + where.member() : where.host() != null ? "host " + where.host()
                : where.hosts() != null ? "hosts " + String.join(", ", where.hosts()) : "the manager";
        return where.via() == null ? on : on + " through bridge " + where.via()
                + (where.connectivity() == null ? "" : " (" + where.connectivity() + ")");
    }

    /** A task's message in its pilot's queue: its description as JSON, and the bytes it takes in a bulk enqueue's JSON. */
    private record QueueMessage(TaskDescription task, String body, long bytes) {}

    /** The bytes of a bulk enqueue's JSON without bodies, {@code {"bodies":[]}}. */
    private static final long ENQUEUE_ENVELOPE_BYTES = "{\"bodies\":[]}".length();

    /** The most bytes of one enqueue request: what the queue member takes in a body, and in bodies together. */
    private long requestBytes() {
        return Math.min(fabric.maxBodyBytes(), QUEUE_BULK_BYTES);
    }

    /**
     * Why the queue would refuse a task's message even alone, if it would: over the queue's most bytes
     * of one message ({@link QueueWire#MAX_BODY_BYTES}), or, as a string in a bulk enqueue's JSON
     * (its quotes escaped), over the most bytes of a request.
     */
    private Optional<String> tooLargeForTheQueue(String body, long escaped) {
        long utf8 = body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (utf8 > QueueWire.MAX_BODY_BYTES) {
            return Optional.of("its description is " + utf8 + " bytes as JSON, over the " + QueueWire.MAX_BODY_BYTES
                    + " bytes (256 KiB) of one queue message; store large inputs elsewhere (a file, a URL) and pass a reference");
        }
        long request = ENQUEUE_ENVELOPE_BYTES + escaped;
        if (request > requestBytes()) {
            return Optional.of("its description makes an enqueue request of " + request + " bytes (its quotes escaped), over the "
                    + requestBytes() + " bytes a member takes in one request (" + RequestBatches.SETTING
                    + " on the spawner); store large inputs elsewhere and pass a reference");
        }
        return Optional.empty();
    }

    /** The bytes of a queue message's body as a string in a bulk enqueue's JSON: its quotes and escapes included. */
    private long escapedBytes(String body) {
        return json.writeValueAsBytes(body).length;
    }

    private static SpawnerException invalid(String reason, String detail) {
        return new SpawnerException(HttpStatus.BAD_REQUEST, reason, detail);
    }

    private void startWorkers(PilotWire.Pilot pilot) {
        workers.computeIfAbsent(pilot.id(), id -> new Workers(pilot).start());
    }

    /**
     * {@link #stopWorking} (if its member had not yet), then closes the journal and the client. A
     * thread still running after {@link #CLOSE_PATIENCE} is named in the log and left to meet the
     * closed journal: what it had not journaled is done again after a restart.
     */
    @Override
    public void close() throws IOException {
        stopWorking();
        try {
            journal.close();
        } finally {
            fabric.close();
        }
    }

    /** Waits for {@code threads} to end, {@code patience} in all; logs those that did not. */
    private static void awaitEnd(List<Thread> threads, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        List<String> running = new ArrayList<>();
        boolean interrupted = false;
        for (Thread thread : threads) {
            if (thread == Thread.currentThread()) {
                continue;
            }
            long left = deadline - System.nanoTime();
            try {
                if (interrupted || left <= 0 ? thread.isAlive() : !thread.join(Duration.ofNanos(left))) {
                    running.add(thread.getName());
                }
            } catch (InterruptedException e) {
                interrupted = true;
                if (thread.isAlive()) {
                    running.add(thread.getName());
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!running.isEmpty()) {
            log.warn("pilot manager: {} did not end within {} s of its stop{}; the journal and the client close under them, "
                    + "and what they had not journaled is done again after a restart", running, patience.toSeconds(),
                    interrupted ? " (the stop was interrupted)" : "");
        }
    }

    /** An ACTIVE pilot's two loops: NEW tasks into its queue, its events into the book. */
    private final class Workers {

        private final PilotWire.Pilot pilot;
        private final Object signal = new Object();
        private volatile boolean stopping;
        private volatile CountDownLatch drained;
        private volatile String endMarker;
        private Thread enqueuer;
        private Thread follower;

        Workers(PilotWire.Pilot pilot) {
            this.pilot = pilot;
        }

        Workers start() {
            enqueuer = Thread.ofVirtual().name("pilot-enqueuer-" + pilot.id()).start(this::enqueueLoop);
            follower = Thread.ofVirtual().name("pilot-follower-" + pilot.id()).start(this::followLoop);
            return this;
        }

        void wake() {
            synchronized (signal) {
                signal.notifyAll();
            }
        }

        private void enqueueLoop() {
            while (!stopping) {
                try {
                    List<TaskDescription> fresh = book.fresh(pilot.id());
                    enqueue(fresh);
                    if (fresh.isEmpty()) {
                        synchronized (signal) {
                            if (!book.hasFresh(pilot.id())) {
                                signal.wait(1000);
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (stopping) {
                        return;
                    }
                    log.warn("pilot {}: could not put tasks in queue {} ({}); retrying", pilot.id(), pilot.queue(), e.getMessage());
                    if (!pause()) {
                        return;
                    }
                }
            }
        }

        /**
         * Puts tasks in the pilot's queue in bulk (one request and one forced write in the queue for up
         * to {@link #ENQUEUE_BATCH}, within the bytes the queue member takes), journaling each batch
         * QUEUED once the queue has it. A task no request can carry is FAILED: retried, it would be
         * refused again, and the tasks behind it would never be queued.
         */
        private void enqueue(List<TaskDescription> fresh) {
            List<QueueMessage> messages = new ArrayList<>(fresh.size());
            for (TaskDescription task : fresh) {
                String body = json.writeValueAsString(task);
                long escaped = escapedBytes(body);
                Optional<String> tooLarge = tooLargeForTheQueue(body, escaped);
                if (tooLarge.isPresent()) {
                    failTooLarge(task, tooLarge.get());
                } else {
                    messages.add(new QueueMessage(task, body, escaped));
                }
            }
            for (List<QueueMessage> batch : RequestBatches.split(messages, QueueMessage::bytes, ENQUEUE_ENVELOPE_BYTES, requestBytes(),
                    ENQUEUE_BATCH, i -> "task " + messages.get(i).task().id())) {
                if (stopping) {
                    return;
                }
                put(batch);
            }
        }

        /** One request to the queue; refused as too large all the same (a queue on a node set lower), its halves. */
        private void put(List<QueueMessage> batch) {
            List<String> messages;
            try {
                messages = fabric.enqueue(pilot.queue(), batch.stream().map(QueueMessage::body).toList());
            } catch (RestClientResponseException refused) {
                if (refused.getStatusCode().value() != 413) {
                    throw refused;
                }
                if (batch.size() == 1) {
                    failTooLarge(batch.getFirst().task(), "its queue " + pilot.queue() + " refused it alone as too large ("
                            + Problem.decode(refused, "member " + pilot.queue()).message() + "; its node's " + RequestBatches.SETTING + ")");
                    return;
                }
                put(batch.subList(0, batch.size() / 2));
                put(batch.subList(batch.size() / 2, batch.size()));
                return;
            }
            List<String> ids = batch.stream().map(message -> message.task().id()).toList();
            book.queued(ids, messages);
            append(new PilotRecord.TasksQueued(pilot.id(), ids, messages));
        }

        private void failTooLarge(TaskDescription task, String why) {
            log.warn("pilot {}: task {} cannot be put in queue {}: {}", pilot.id(), task.id(), pilot.queue(), why);
            recordFinal(TaskEvent.of(task.id(), pilot.id(), TaskState.FAILED, null, 0, clock.instant(), REASON_TOO_LARGE,
                    "the task cannot be put in its pilot's queue: " + why), null);
        }

        private void followLoop() {
            while (!stopping) {
                long from = eventOffsets.computeIfAbsent(pilot.id(), p -> new AtomicLong()).get();
                try {
                    fabric.follow(pilot.pubsub(), pilot.topic(), from, page -> {
                        String marker = endMarker;
                        List<PilotFabric.Message> events = marker == null ? page
                                : page.stream().filter(message -> !message.body().equals(marker)).toList();
                        if (!events.isEmpty()) {
                            onEvents(pilot.id(), events);
                        }
                        if (events.size() < page.size()) {
                            drained.countDown();
                        }
                    });
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (stopping) {
                        return;
                    }
                    log.info("pilot {}: following {} on {} from {} broke off ({}); following again", pilot.id(), pilot.topic(),
                            pilot.pubsub(), from, e.getMessage());
                }
                if (!pause()) {
                    return;
                }
            }
        }

        private boolean pause() {
            try {
                Thread.sleep(500);
                return true;
            } catch (InterruptedException e) {
                return false;
            }
        }

        /** After its agents were stopped: reads its events up to a marker published now, then stops both loops. */
        void drainAndStop(PilotWire.Pilot ending) {
            stopping = true;
            enqueuer.interrupt();
            drained = new CountDownLatch(1);
            endMarker = "{\"pilotEnded\":\"" + ending.id() + "\",\"nonce\":\"" + newTaskId() + "\"}";
            try {
                fabric.publish(ending.pubsub(), ending.topic(), List.of(endMarker));
                if (!drained.await(15, TimeUnit.SECONDS)) {
                    log.warn("pilot {}: its events were not read to their end within 15 s", ending.id());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.warn("pilot {}: could not read its events to their end: {}", ending.id(), e.getMessage());
            }
            stop();
        }

        /** Its threads, to wait for once stopped. */
        List<Thread> threads() {
            List<Thread> threads = new ArrayList<>();
            if (enqueuer != null) {
                threads.add(enqueuer);
            }
            if (follower != null) {
                threads.add(follower);
            }
            return threads;
        }

        void stop() {
            stopping = true;
            if (enqueuer != null) {
                enqueuer.interrupt();
            }
            if (follower != null) {
                follower.interrupt();
            }
        }
    }
}
