package dev.fabric.spawner.role.agent;

import dev.fabric.core.client.BoundMember;
import dev.fabric.core.client.OffsetGoneException;
import dev.fabric.core.client.PubSub;
import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.queue.QueueWire;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * A running agent: leases task descriptions from its queue, runs each in a slot, publishes every
 * state change and acknowledges a lease only once the task's final event is acknowledged by the
 * pubsub. Its threads (virtual): one leaser, one worker per slot, one acker, one follower of the
 * control topic; the {@link EventPublisher}'s one. It holds {@code prefetch} (2) times its slots in
 * leases, more while its tasks are short ({@link Room}), so a freed slot finds its next task already here
 * instead of waiting for a lease, and the leases freed while one lease request is under way are taken
 * together in the next. The acks of
 * finished tasks ride on the next lease request ({@link PendingAcks}); the acker sends those none took in time.
 *
 * <pre>
 * queue --lease--> [leased] --slot free--> RUNNING --process ends--> final event --published--> ack
 *                      \--invalid, canceled, a duplicate of a finished task-----------------------^
 * </pre>
 */
final class Agent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final int REMEMBERED = 100_000;
    /** How long one lease request waits for a task when the queue is empty (a long poll). */
    private static final Duration LEASE_WAIT = Duration.ofSeconds(10);
    /** How long a task may run before its RUNNING event is published alone; one that ends sooner has it go with its final event. */
    static final Duration RUNNING_EVENT_GRACE = Duration.ofMillis(50);

    /** How long one read of the control topic waits for a cancel (a long poll); after an empty answer it asks again at once. */
    private static final Duration CONTROL_WAIT = Duration.ofSeconds(10);
    private static final Duration RETRY_MIN = Duration.ofMillis(100);
    private static final Duration RETRY_MAX = Duration.ofSeconds(5);
    /** The most tasks one lease request asks for (the queue hands out up to 1,000). */
    private static final int MAX_LEASE = 1000;
    /** The most leases one ack request carries (the queue takes up to 1,000). */
    private static final int MAX_ACKS = 500;
    /**
     * The least a finished task's lease waits for a lease request to carry its ack before the acker
     * sends it alone; it waits the agent's {@code prefetch-horizon} when that is longer: a busy agent
     * leases about twice a horizon (once half its room is free), an idle one holds a long poll.
     */
    static final Duration ACK_CARRY_WAIT = Duration.ofMillis(50);

    /** A leased task waiting for a slot. */
    record Leased(TaskDescription task, String lease, int attempt) {}

    /** A task in a slot. */
    record Running(TaskDescription task, String lease, int attempt, TaskRunner.Run run) {

        /** When its process was started (or failed to start): the time its run took, which the journal's started line also carries. */
        Instant startedAt() {
            return run.startedAt();
        }
    }

    private final AgentSettings settings;
    private final String agentId;
    private final BoundMember queue;
    private final PubSub pubsub;
    private final EventPublisher publisher;
    private final RunningJournal journal;
    private final TaskRunner runner;
    private final JsonMapper json;
    private final MeterRegistry meters;
    private final Room room;
    private final BlockingQueue<Leased> waiting = new LinkedBlockingQueue<>();
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Set<String> canceled = remembered();
    private final Set<String> finished = remembered();
    private final PendingAcks<Leased> acks;
    /** Whether lease requests carry acks; off for good once the queue answers one without {@code refused} (it ignored them). */
    private volatile boolean carryAcks = true;
    /** The deadline of every lease it holds, for the extender. */
    private final Map<String, Instant> deadlines = new ConcurrentHashMap<>();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong canceledCount = new AtomicLong();
    /** The tasks' meters by final state (and reason), each looked up in the registry once, not once a task. */
    private final Map<TaskState, Timer> durations = new ConcurrentHashMap<>();
    private final Map<String, Counter> taskCounts = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;
    /** The next offset of the control topic to read: how far the cancels have been taken in. */
    private volatile long controlNext;

    Agent(AgentSettings settings, String agentId, BoundMember queue, PubSub pubsub, RunningJournal journal, JsonMapper json,
          MeterRegistry meters) {
        this.settings = settings;
        this.agentId = agentId;
        this.queue = queue;
        this.pubsub = pubsub;
        this.journal = journal;
        this.json = json;
        this.meters = meters;
        this.runner = new TaskRunner(settings.sandbox(), settings.outputLimit());
        this.room = new Room(settings.cores(), settings.prefetch(), settings.prefetchHorizon());
        this.acks = new PendingAcks<>(settings.prefetchHorizon().compareTo(ACK_CARRY_WAIT) > 0 ? settings.prefetchHorizon()
                : ACK_CARRY_WAIT, System::nanoTime);
        this.publisher = new EventPublisher(pubsub, settings.topic(), json, () -> !waiting.isEmpty(), EventPublisher.LINGER,
                () -> journal(journal::flush));
        List<RunningJournal.Open> left = journal.open();
        threads.add(Thread.ofVirtual().name("agent-leaser").start(() -> {
            recover(left);
            lease();
        }));
        for (int slot = 0; slot < settings.cores(); slot++) {
            threads.add(Thread.ofVirtual().name("agent-slot-" + slot).start(this::work));
        }
        threads.add(Thread.ofVirtual().name("agent-acker").start(this::acknowledge));
        threads.add(Thread.ofVirtual().name("agent-extender").start(this::extend));
        Set<String> recovering = left.stream().map(RunningJournal.Open::task).collect(Collectors.toSet());
        threads.add(Thread.ofVirtual().name("agent-sweeper").start(() -> sweepSandboxes(recovering)));
        threads.add(Thread.ofVirtual().name("agent-control").start(this::followControl));
    }

    AgentSettings settings() {
        return settings;
    }

    /** The tasks in its slots now. */
    List<Running> running() {
        return List.copyOf(running.values());
    }

    long done() {
        return done.get();
    }

    long failed() {
        return failed.get();
    }

    long canceled() {
        return canceledCount.get();
    }

    long controlNext() {
        return controlNext;
    }

    /** How many leased tasks it may hold now, and what a task has taken in its slot of late. */
    Room room() {
        return room;
    }

    /** The leased tasks it holds now: running, or waiting here for a slot. */
    int held() {
        return running.size() + waiting.size();
    }

    /**
     * Cancels a task: one running here is killed with its processes and published CANCELED, one
     * waiting here for a slot is published CANCELED at once without running, and one that arrives
     * later (still in the queue) likewise.
     *
     * @param remember whether to cancel it also when it comes later (a cancel for the whole pilot), not only when it is here now
     * @return the task's state here before the cancel: RUNNING, QUEUED (waiting for a slot here), or empty when this agent does not hold it
     */
    Optional<TaskState> cancel(String taskId, boolean remember) {
        if (remember) {
            canceled.add(taskId);
        }
        Running run = running.get(taskId);
        if (run != null) {
            canceled.add(taskId);
            log.info("task {}: canceled while running; killing its processes", taskId);
            run.run().cancel();
            return Optional.of(TaskState.RUNNING);
        }
        Leased held = waiting.stream().filter(leased -> leased.task().id().equals(taskId)).findFirst().orElse(null);
        if (held != null) {
            canceled.add(taskId);
            // Ended now, not when a core frees up; a slot that took it meanwhile sees the cancel instead.
            if (waiting.remove(held)) {
                finishCanceledWhileQueued(held);
                room.release();
            }
            return Optional.of(TaskState.QUEUED);
        }
        return Optional.empty();
    }

    /**
     * Stops: no more leases; running tasks are killed and, with those waiting for a slot, given back
     * to the queue to run elsewhere; events and acknowledgements under way are finished for a few seconds.
     */
    @Override
    public void close() {
        stopping = true;
        acks.hurry();
        Thread leaser = threads.getFirst();
        Thread control = threads.getLast();
        leaser.interrupt();
        control.interrupt();
        join(leaser);
        running.values().forEach(r -> r.run().cancel());
        List<Leased> unstarted = new ArrayList<>();
        waiting.drainTo(unstarted);
        unstarted.forEach(leased -> {
            giveBack(leased);
            room.release();
        });
        // The slots finish what they hold (killed tasks are given back), then final events and acks under way.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while ((!running.isEmpty() || publisher.outstanding() > 0 || !acks.isEmpty()) && System.nanoTime() < deadline) {
            sleep(Duration.ofMillis(20));
        }
        publisher.close();
        threads.forEach(Thread::interrupt);
        threads.forEach(this::join);
    }

    // ---- the leaser

    private void lease() {
        Duration retry = RETRY_MIN;
        while (!stopping) {
            int max;
            try {
                max = room.take(MAX_LEASE);
            } catch (InterruptedException e) {
                return;
            }
            // The acks of finished tasks ride on the request: the queue acks them (durably) before it leases.
            List<Leased> carried = carryAcks ? acks.carry(MAX_ACKS) : List.of();
            if (!carried.isEmpty()) {
                // Their published lines on disk before the queue forgets their leases.
                journal(journal::flush);
            }
            QueueWire.Leases answer;
            try {
                answer = queue.call((client, url) -> {
                    RestClient.RequestBodySpec request = client.post().uri("/leases?max={max}&visibility={v}&wait={w}", max,
                            settings.visibility().toSeconds() + "s", LEASE_WAIT.toSeconds() + "s");
                    if (!carried.isEmpty()) {
                        request.contentType(MediaType.APPLICATION_JSON).body(new QueueWire.Acks(carried.stream().map(Leased::lease).toList()));
                    }
                    QueueWire.Leases leases = request.retrieve().body(QueueWire.Leases.class);
                    return leases == null ? new QueueWire.Leases(List.of(), null) : leases;
                });
                retry = RETRY_MIN;
            } catch (RestClientResponseException refused) {
                // Not known to be acked: they wait for the next request, or the acker. A queue that refuses a
                // lease request with acks on it (a 4xx) gets them on their own from now on, so leasing goes on.
                acks.putBack(carried);
                room.release(max);
                if (!carried.isEmpty() && refused.getStatusCode().is4xxClientError()) {
                    log.warn("agent {}: queue {} refused a lease request carrying acks ({}); acking on their own from now on", agentId,
                            settings.queue(), refused.getResponseBodyAsString());
                    carryAcks = false;
                    acks.hurry();
                    continue;
                }
                if (stopping) {
                    return;
                }
                log.warn("agent {}: could not lease tasks from queue {} ({}); trying again in {}", agentId, settings.queue(),
                        refused.getMessage(), retry);
                sleep(retry);
                retry = next(retry, RETRY_MAX);
                continue;
            } catch (RuntimeException e) {
                // Not known to be acked: they wait for the next request, or the acker.
                acks.putBack(carried);
                room.release(max);
                if (stopping) {
                    return;
                }
                log.warn("agent {}: could not lease tasks from queue {} ({}); trying again in {}", agentId, settings.queue(), e.getMessage(), retry);
                sleep(retry);
                retry = next(retry, RETRY_MAX);
                continue;
            }
            if (!carried.isEmpty()) {
                if (answer.refused() == null) {
                    // A queue that predates acks on a lease request ignored them: the acker sends them, and all after them.
                    log.info("agent {}: queue {} does not take acks with a lease request; acking on their own", agentId, settings.queue());
                    carryAcks = false;
                    acks.hurry();
                    acks.putBack(carried);
                } else {
                    acknowledged(carried, answer.refused());
                }
            }
            List<QueueWire.LeasedMessage> messages = answer.messages();
            room.release(max - messages.size());
            meters.counter(AgentRole.LEASED_METRIC).increment(messages.size());
            List<Delivered> delivered = messages.stream().map(this::read).toList();
            // Journaled, all in one write, before any of them can start.
            journal(() -> journal.leased(delivered.stream().map(Delivered::journaled).toList()));
            delivered.forEach(this::dispatch);
        }
    }

    /** A leased message as read: the task, or why it is not one. */
    private record Delivered(QueueWire.LeasedMessage message, TaskDescription task, String taskId, String pilot, String invalid) {

        RunningJournal.Lease journaled() {
            return new RunningJournal.Lease(taskId, pilot, message.leaseId(), message.deliveries());
        }
    }

    private Delivered read(QueueWire.LeasedMessage message) {
        TaskDescription task = null;
        String invalid;
        try {
            task = json.readValue(message.body(), TaskDescription.class);
            invalid = task.invalidity().orElse(null);
        } catch (JacksonException e) {
            invalid = "queue message " + message.id() + " is not a task description: " + e.getOriginalMessage();
        }
        String taskId = task != null && task.id() != null ? task.id() : message.id();
        String pilot = task != null && task.pilot() != null ? task.pilot() : settings.pilot();
        return new Delivered(message, task, taskId, pilot, invalid);
    }

    /** Sorts a leased task: to a slot, or straight to its final event when it must not run. */
    private void dispatch(Delivered delivered) {
        QueueWire.LeasedMessage message = delivered.message();
        TaskDescription task = delivered.task();
        String taskId = delivered.taskId();
        String pilot = delivered.pilot();
        String invalid = delivered.invalid();
        Leased leased = new Leased(task, message.leaseId(), message.deliveries());
        deadlines.put(message.leaseId(), message.deadline());
        if (invalid != null) {
            log.info("task {}: invalid ({}); publishing it FAILED", taskId, invalid);
            finish(new Leased(task == null ? new TaskDescription(taskId, pilot, null, null, null, null, null) : task, message.leaseId(),
                    message.deliveries()), TaskEvent.of(taskId, pilot, TaskState.FAILED, agentId, message.deliveries(), Instant.now(),
                    TaskEvent.REASON_INVALID_TASK, invalid));
            room.release();
        } else if (finished.contains(taskId)) {
            log.info("task {}: delivered again after this agent finished it; acknowledging it without running it", taskId);
            acks.add(leased);
            room.release();
        } else if (canceled.contains(taskId)) {
            finishCanceledWhileQueued(leased);
            room.release();
        } else {
            waiting.add(leased);
        }
    }

    // ---- the slots

    private void work() {
        while (!stopping) {
            Leased leased;
            try {
                leased = waiting.take();
            } catch (InterruptedException e) {
                return;
            }
            long began = System.nanoTime();
            try {
                run(leased);
            } catch (InterruptedException e) {
                return;
            } finally {
                room.ran(System.nanoTime() - began);
                room.release();
            }
        }
    }

    private void run(Leased leased) throws InterruptedException {
        TaskDescription task = leased.task();
        if (canceled.contains(task.id())) {
            finishCanceledWhileQueued(leased);
            return;
        }
        String pilot = pilotOf(task);
        TaskEvent started = TaskEvent.of(task.id(), pilot, TaskState.RUNNING, agentId, leased.attempt(), Instant.now(), null, null);
        TaskRunner.Run run = runner.start(task);
        running.put(task.id(), new Running(task, leased.lease(), leased.attempt(), run));
        TaskRunner.Outcome outcome;
        boolean runningPublished = false;
        try {
            if (canceled.contains(task.id())) {
                run.cancel();
            }
            run.pid().ifPresent(pid -> journal(() -> journal.started(task.id(), leased.lease(), pid, run.startedAt())));
            // A task that ends at once has its RUNNING event go with its final one, in one publish: a
            // short task costs one request to the pubsub, not two. A longer one has it published now.
            if (!run.endsWithin(RUNNING_EVENT_GRACE)) {
                publisher.publish(started);
                runningPublished = true;
            }
            outcome = run.await();
        } finally {
            running.remove(task.id());
        }
        if (stopping && outcome.state() == TaskState.CANCELED && !canceled.contains(task.id())) {
            giveBack(leased);
            return;
        }
        if (outcome.duration() != null) {
            durations.computeIfAbsent(outcome.state(), state -> Timer.builder(AgentRole.DURATION_METRIC).tag("state", state.name())
                    .register(meters)).record(outcome.duration());
        }
        TaskEvent last = outcome.event(task, pilot, agentId, leased.attempt(), Instant.now());
        finish(leased, runningPublished ? List.of(last) : List.of(started, last));
    }

    private void finishCanceledWhileQueued(Leased leased) {
        TaskDescription task = leased.task();
        finish(leased, TaskEvent.of(task.id(), pilotOf(task), TaskState.CANCELED, agentId, leased.attempt(), Instant.now(),
                TaskEvent.REASON_CANCELED_QUEUED, null));
    }

    /** Publishes a task's final event; its lease is acknowledged once the pubsub has it. */
    private void finish(Leased leased, TaskEvent event) {
        finish(leased, List.of(event));
    }

    /** Publishes a task's last events, the final one last, in one request; its lease is acknowledged once the pubsub has them. */
    private void finish(Leased leased, List<TaskEvent> events) {
        TaskEvent event = events.getLast();
        String taskId = event.task();
        finished.add(taskId);
        (switch (event.state()) {
            case DONE -> done;
            case CANCELED -> canceledCount;
            default -> failed;
        }).incrementAndGet();
        String reason = event.reason() == null ? "none" : event.reason();
        taskCounts.computeIfAbsent(event.state().name() + ' ' + reason,
                key -> meters.counter(AgentRole.TASKS_METRIC, "state", event.state().name(), "reason", reason)).increment();
        publisher.publish(events).whenComplete((published, failure) -> {
            if (failure != null) {
                // Left unacknowledged: the queue hands the task out again once its lease expires.
                finished.remove(taskId);
                log.warn("task {}: its final event was not published ({}); the queue will hand it out again", taskId, failure.getMessage());
                return;
            }
            // Written with the rest of the publish's (the publisher flushes after each), and before any ack is sent.
            journal.published(taskId, leased.lease());
            acks.add(leased);
        });
    }

    private String pilotOf(TaskDescription task) {
        return task.pilot() != null ? task.pilot() : settings.pilot();
    }

    // ---- acknowledgements

    /**
     * Acks the leases of finished tasks, all those waiting in one request (the queue's bulk ack: one
     * journal write for them all), so a busy agent does not pay a request and a forced write per task.
     */
    private void acknowledge() {
        while (true) {
            List<Leased> batch;
            try {
                batch = acks.takeDue(MAX_ACKS);
            } catch (InterruptedException e) {
                return;
            }
            Map<String, Leased> byLease = new LinkedHashMap<>();
            batch.forEach(leased -> byLease.put(leased.lease(), leased));
            // Their published lines on disk before the queue forgets their leases.
            journal(journal::flush);
            Duration retry = RETRY_MIN;
            while (true) {
                try {
                    QueueWire.AckedAll answer = queue.call((client, url) -> client.post().uri("/acks").contentType(MediaType.APPLICATION_JSON)
                            .body(new QueueWire.Acks(List.copyOf(byLease.keySet()))).retrieve().body(QueueWire.AckedAll.class));
                    acknowledged(byLease.values(), answer == null ? List.of() : answer.refused());
                    break;
                } catch (RestClientResponseException refused) {
                    log.warn("agent {}: the queue refused the ack of {} leases: {}; they expire and their tasks come again", agentId,
                            byLease.size(), refused.getResponseBodyAsString());
                    acknowledged(byLease.values(), List.of());
                    break;
                } catch (RuntimeException unreachable) {
                    if (stopping) {
                        return;
                    }
                    log.warn("agent {}: could not ack {} leases ({}); trying again in {}", agentId, byLease.size(), unreachable.getMessage(),
                            retry);
                    if (!sleep(retry)) {
                        return;
                    }
                    retry = next(retry, RETRY_MAX);
                }
            }
        }
    }

    /** The queue answered the acks of {@code leases}: the refused ones are logged (their tasks come again), all are let go. */
    private void acknowledged(java.util.Collection<Leased> leases, List<QueueWire.Refusal> refusals) {
        Map<String, Leased> byLease = new LinkedHashMap<>();
        leases.forEach(leased -> byLease.put(leased.lease(), leased));
        // Expired, nacked or unknown to a restarted queue: the task comes again, and is acknowledged without running then.
        refusals.forEach(refused -> log.info("task {}: the queue did not take the ack of lease {}: {} ({})",
                taskOf(byLease.get(refused.leaseId())), refused.leaseId(), refused.reason(), refused.detail()));
        byLease.keySet().forEach(deadlines::remove);
        journal(() -> journal.acked(byLease.values().stream().map(leased -> Map.entry(taskOf(leased), leased.lease())).toList()));
    }

    private static String taskOf(Leased leased) {
        return leased == null || leased.task() == null ? "?" : leased.task().id();
    }

    /**
     * Keeps the leases it holds alive: each is extended by its visibility once half of that is
     * left, so a task may run longer than one lease while a lost agent's tasks still come back soon.
     */
    private void extend() {
        Duration visibility = settings.visibility();
        while (sleep(visibility.dividedBy(4))) {
            Instant soon = Instant.now().plus(visibility.dividedBy(2));
            for (Map.Entry<String, Instant> held : deadlines.entrySet()) {
                if (held.getValue().isAfter(soon)) {
                    continue;
                }
                String lease = held.getKey();
                try {
                    QueueWire.Extended extended = queue.call((client, url) -> client.post().uri("/leases/{lease}/extend?visibility={v}",
                            lease, visibility.toSeconds() + "s").retrieve().body(QueueWire.Extended.class));
                    if (extended != null) {
                        deadlines.computeIfPresent(lease, (key, old) -> extended.deadline());
                    }
                } catch (RestClientResponseException refused) {
                    // Acked meanwhile, or expired: the queue hands the task out again, and a duplicate final event is ignored.
                    deadlines.remove(lease);
                    log.info("agent {}: lease {} could not be extended: {}", agentId, lease, refused.getResponseBodyAsString());
                } catch (RuntimeException unreachable) {
                    if (stopping) {
                        return;
                    }
                    log.warn("agent {}: could not extend lease {} ({}); trying again soon", agentId, lease, unreachable.getMessage());
                }
            }
        }
    }

    /**
     * Removes the sandboxes of finished tasks past the retention: at the start (when only a previous
     * incarnation's are there, those of the tasks it held kept), then once a sandbox can be due, at
     * most once an interval; those of the tasks held here stay.
     */
    private void sweepSandboxes(Set<String> recovering) {
        SandboxSweeper sweeper = new SandboxSweeper(runner.root(), settings.sandboxRetention());
        Set<String> held = new HashSet<>(recovering);
        while (true) {
            held.addAll(running.keySet());
            waiting.forEach(leased -> held.add(leased.task().id()));
            Instant now = Instant.now();
            SandboxSweeper.Sweep sweep = sweeper.sweep(now, held);
            if (sweep.removed() > 0) {
                log.debug("agent {}: removed {} sandboxes older than {}", agentId, sweep.removed(), settings.sandboxRetention());
            }
            held.clear();
            if (!sleep(sweeper.untilNext(sweep, now))) {
                return;
            }
        }
    }

    /** Gives a lease back to the queue at once (a stopping agent), so another agent runs the task now. */
    private void giveBack(Leased leased) {
        String taskId = leased.task() == null ? "?" : leased.task().id();
        try {
            queue.call((client, url) -> client.post().uri("/leases/{lease}/nack", leased.lease()).retrieve().toBodilessEntity());
        } catch (RuntimeException e) {
            log.info("task {}: lease {} not given back ({}); it expires instead", taskId, leased.lease(), e.getMessage());
        }
        deadlines.remove(leased.lease());
        journal(() -> journal.released(taskId, leased.lease()));
    }

    // ---- a restart under the agent's id

    /** What the previous incarnation left: its processes are killed, its tasks run again or fail, per the rerun policy. */
    private void recover(List<RunningJournal.Open> left) {
        for (RunningJournal.Open open : left) {
            if (open.pid() != null && open.started() != null) {
                ProcessTree.find(open.pid(), open.started()).ifPresent(process -> {
                    log.info("task {}: killing process {} left running by the previous incarnation", open.task(), process.pid());
                    ProcessTree.kill(process);
                });
            }
            Leased leased = new Leased(new TaskDescription(open.task(), open.pilot(), null, null, null, null, null), open.lease(),
                    open.attempt());
            if (open.published()) {
                log.info("task {}: its final event was published before the restart; acknowledging its lease", open.task());
                finished.add(open.task());
                acks.add(leased);
            } else if (open.pid() == null || settings.rerunPolicy() == AgentSettings.RerunPolicy.RERUN) {
                log.info("task {}: {} before the restart; giving it back to the queue to run again", open.task(),
                        open.pid() == null ? "not yet started" : "running");
                giveBack(leased);
            } else {
                log.info("task {}: running before the restart; publishing it FAILED (rerun-policy fail)", open.task());
                finish(leased, TaskEvent.of(open.task(), open.pilot(), TaskState.FAILED, agentId, open.attempt(), Instant.now(),
                        TaskEvent.REASON_AGENT_LOST, "agent " + agentId + " was restarted while running it; its rerun-policy is fail"));
            }
        }
    }

    // ---- cancels

    private void followControl() {
        long from = 0;
        Duration retry = RETRY_MIN;
        while (!stopping) {
            try {
                PubSubWire.Messages page = pubsub.fetch(settings.control(), from, 1000, CONTROL_WAIT);
                retry = RETRY_MIN;
                page.messages().forEach(message -> cancelFrom(message.body()));
                from = Math.max(from, page.next());
                controlNext = from;
            } catch (OffsetGoneException gone) {
                log.warn("agent {}: control topic {} no longer holds offset {}; reading on from {}", agentId, settings.control(), from,
                        gone.oldest());
                from = Math.max(gone.oldest(), from + 1);
            } catch (RuntimeException failed) {
                if (stopping) {
                    return;
                }
                log.warn("agent {}: could not read control topic {} of pubsub {} ({}); trying again in {}", agentId, settings.control(),
                        settings.pubsub(), failed.getMessage(), retry);
                if (!sleep(retry)) {
                    return;
                }
                retry = next(retry, RETRY_MAX);
            }
        }
    }

    private void cancelFrom(String body) {
        try {
            JsonNode message = json.readTree(body);
            String taskId = message.path("cancel").asString(null);
            if (taskId != null && !taskId.isBlank()) {
                cancel(taskId, true);
            }
        } catch (JacksonException e) {
            log.info("agent {}: ignoring a control message that is not JSON: {}", agentId, body);
        }
    }

    // ---- plumbing

    private interface JournalStep {
        void write() throws IOException;
    }

    private void journal(JournalStep step) {
        try {
            step.write();
        } catch (IOException e) {
            // The task goes on: only a restart would miss this line, and then runs the task again.
            log.warn("agent {}: could not write its journal {}: {}", agentId, journal.file(), e.toString());
        }
    }

    private static Set<String> remembered() {
        return Collections.synchronizedSet(Collections.newSetFromMap(new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > REMEMBERED;
            }
        }));
    }

    private static Duration next(Duration wait, Duration max) {
        Duration doubled = wait.multipliedBy(2);
        return doubled.compareTo(max) > 0 ? max : doubled;
    }

    /** Sleeps; false when interrupted (the agent stops). */
    private static boolean sleep(Duration wait) {
        try {
            Thread.sleep(wait);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void join(Thread thread) {
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
