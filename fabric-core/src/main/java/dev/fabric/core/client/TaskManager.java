package dev.fabric.core.client;

import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskState;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientResponseException;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An application's task manager (RADICAL-Pilot's), within a session: places pilots on a pilot
 * manager member, submits tasks to them (one or in bulk), waits for them (all, any, with a
 * timeout), lists, cancels and reads their output. Every call goes through {@link FabricClient},
 * signed and with its fail-over: a pilot manager restarted under its id answers for the same tasks.
 *
 * <p>After the application itself fails over, {@link FabricClient#reconnect} and
 * {@link Reconnection#tasks} give a task manager of the same session, whose {@link #list()} holds
 * the tasks submitted before: wait for them again, nothing is resubmitted.
 *
 * <pre>{@code
 * TaskManager tasks = fabric.tasks("pilot-manager-1a2b", "s-42");
 * PilotWire.Pilot pilot = tasks.submitPilot(new PilotWire.PilotDescription(2, 1, null, "1h", null));
 * List<String> ids = tasks.submit(pilot.id(), descriptions);
 * TaskManager.Outcome done = tasks.waitAll(ids, Duration.ofMinutes(10));
 * }</pre>
 *
 * <p>Errors: a bad argument (a null, blank or malformed pilot or task id, a null description or
 * list) is refused with {@link IllegalArgumentException} before anything is sent; the manager's
 * refusals are {@link MemberRefusedException}s, whose {@link MemberRefusedException#status() status()}
 * and {@link MemberRefusedException#reason() reason()} are its answer's ({@code 404 unknown-task},
 * {@code 400 invalid-task}...); a manager that cannot be reached nor brought back raises the other
 * {@link FabricClientException}s of {@link FabricClient#call}.
 */
public final class TaskManager {

    /** The role whose members keep tasks. */
    public static final String ROLE = "pilot-manager";

    /** The endpoint of its API in the registry. */
    public static final String ENDPOINT = "pilots";

    /** The most tasks one submission request carries; larger lists go in several. */
    static final int BULK = 1000;

    /** How long one request of the finals feed waits for a task to end. */
    static final Duration POLL = Duration.ofSeconds(10);

    /**
     * While a wait has more than {@link #GATHER_ABOVE} tasks to go, the least time from one read of the
     * finals feed to the next: the finals of that time come in one answer instead of one answer per
     * publish of an agent, which spares the manager and the application a signed request each. A wait
     * for fewer tasks, or for any one of them, reads again at once.
     */
    static final Duration GATHER = Duration.ofMillis(20);

    /** How many tasks a wait must still have to go for it to gather finals between reads ({@link #GATHER}). */
    static final int GATHER_ABOVE = 100;

    /** How many submitted tasks' feed positions are kept for waits (the oldest are forgotten: a wait for them reads the feed from its start). */
    static final int REMEMBERED = 100_000;

    private final FabricClient client;
    private final String manager;
    private final String session;
    /** The manager's endpoint, looked up in the registry once (again only after it could not be reached): no look-up per call. */
    private final BoundMember bound;
    /**
     * For tasks submitted here, the finals feed's sequence when the manager accepted them
     * ({@link PilotWire.Submitted#finalsAfter()}): a wait reads the feed from the lowest of its tasks'
     * instead of from the start, which would send it every final of the session so far. A task not
     * in here (submitted elsewhere, forgotten, or by a manager that did not say) starts the feed at 0.
     */
    private final Map<String, Long> finalsAfter = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > REMEMBERED;
        }
    };

    TaskManager(FabricClient client, String manager, String session) {
        this.client = client;
        this.manager = manager;
        this.session = session;
        this.bound = client.bind(manager, ENDPOINT);
    }

    /** The pilot manager member this task manager talks to. */
    public String manager() {
        return manager;
    }

    /** The application's session. */
    public String session() {
        return session;
    }

    /** What a wait saw: the tasks that reached a final state, in the order they did, and the ids still unfinished. */
    public record Outcome(List<PilotWire.Task> finished, Set<String> pending) {

        public Outcome {
            finished = List.copyOf(finished);
            pending = Set.copyOf(pending);
        }

        /** Whether every task waited for ended. */
        public boolean complete() {
            return pending.isEmpty();
        }
    }

    // ---- pilots --------------------------------------------------------------------------------

    /** Places a pilot; it is LAUNCHING until its members are RUNNING, then ACTIVE. */
    public PilotWire.Pilot submitPilot(PilotWire.PilotDescription description) {
        if (description == null) {
            throw new IllegalArgumentException("the pilot description is null; e.g. new PilotWire.PilotDescription(2, 1, null, \"1h\", null)");
        }
        return call("refused the pilot", http -> http.post().uri("/pilots").contentType(MediaType.APPLICATION_JSON).body(description)
                .retrieve().body(PilotWire.Pilot.class));
    }

    public PilotWire.Pilot pilot(String id) {
        checkId("pilot", id);
        return call("has no pilot " + id, http -> http.get().uri("/pilots/{id}", id).retrieve().body(PilotWire.Pilot.class));
    }

    public List<PilotWire.Pilot> pilots() {
        return call("did not list its pilots", http -> http.get().uri("/pilots").retrieve().body(PilotWire.Pilots.class)).pilots();
    }

    /** Cancels a pilot: its agents stop, its unfinished tasks are CANCELED. */
    public PilotWire.Pilot cancelPilot(String id) {
        checkId("pilot", id);
        return call("did not cancel pilot " + id, http -> http.delete().uri("/pilots/{id}", id).retrieve().body(PilotWire.Pilot.class));
    }

    /**
     * Waits until the pilot is ACTIVE (its agents take tasks); tasks may be submitted before.
     *
     * @throws IllegalStateException when it ends first or is not ACTIVE within {@code timeout}
     */
    public PilotWire.Pilot awaitActive(String id, Duration timeout) throws InterruptedException {
        checkId("pilot", id);
        if (timeout == null) {
            throw new IllegalArgumentException("the timeout to wait for pilot " + id + " is null");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            PilotWire.Pilot pilot = pilot(id);
            switch (pilot.state()) {
                case ACTIVE -> {
                    return pilot;
                }
                case DONE, FAILED, CANCELED -> throw new IllegalStateException("pilot " + id + " is " + pilot.state()
                        + (pilot.reason() == null ? "" : ": " + pilot.reason()));
                default -> {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("pilot " + id + " is still " + pilot.state() + " after "
                                + timeout.toSeconds() + " s");
                    }
                    Thread.sleep(250);
                }
            }
        }
    }

    // ---- tasks ---------------------------------------------------------------------------------

    /** Submits one task; answers its id. */
    public String submit(String pilot, TaskDescription task) {
        if (task == null) {
            throw new IllegalArgumentException("the task description for pilot " + pilot + " is null; e.g. TaskDescription.of(\"echo\", \"hi\")");
        }
        return submit(pilot, List.of(task)).getFirst();
    }

    /**
     * Submits tasks in bulk, in requests of up to 1,000 tasks and of up to the bytes a member takes
     * in one request ({@link FabricClient#maxBodyBytes()}, 512 KiB unless set); answers their ids in
     * order. A task may propose its id: submitting it again (a retry) does not make a second task.
     * When a request is refused as too large all the same (the fabric's limit is lower than the
     * client's), it is sent again in halves.
     *
     * @throws RequestBatches.ItemTooLargeException when one task is too large for a request by itself;
     *         nothing of the list is sent then
     */
    public List<String> submit(String pilot, List<TaskDescription> tasks) {
        checkId("pilot", pilot);
        if (tasks == null) {
            throw new IllegalArgumentException("the list of tasks for pilot " + pilot + " is null");
        }
        for (int i = 0; i < tasks.size(); i++) {
            if (tasks.get(i) == null) {
                throw new IllegalArgumentException("task " + i + " of the submission to pilot " + pilot + " is null; nothing was submitted");
            }
        }
        List<List<TaskDescription>> requests = RequestBatches.split(tasks, task -> client.json().writeValueAsBytes(task).length,
                client.json().writeValueAsBytes(new PilotWire.Submission(session, List.of())).length, client.maxBodyBytes(), BULK,
                i -> "task " + i + " of the submission to pilot " + pilot);
        List<String> ids = new ArrayList<>(tasks.size());
        for (List<TaskDescription> request : requests) {
            ids.addAll(send(pilot, request));
        }
        return ids;
    }

    /** One submission request; refused as too large (413), its halves, one after the other. */
    private List<String> send(String pilot, List<TaskDescription> tasks) {
        return RequestBatches.sendHalving(tasks, manager, "task", run -> client.json().writeValueAsBytes(new PilotWire.Submission(session, run)),
                body -> {
                    PilotWire.Submitted submitted = call("refused tasks for pilot " + pilot, http -> http.post().uri("/pilots/{id}/tasks", pilot)
                            .contentType(MediaType.APPLICATION_JSON).body(body).retrieve().body(PilotWire.Submitted.class));
                    remember(submitted);
                    return submitted.ids();
                });
    }

    /** Every task of this session, over every pilot, in submission order. */
    public List<PilotWire.Task> list() {
        return call("did not list the tasks of session " + session, http -> http.get().uri("/tasks?session={s}", session)
                .retrieve().body(PilotWire.Tasks.class)).tasks();
    }

    /** The tasks of a pilot, in one state when {@code state} is given. */
    public List<PilotWire.Task> list(String pilot, TaskState state) {
        checkId("pilot", pilot);
        return call("did not list the tasks of pilot " + pilot, http -> http.get()
                .uri(state == null ? "/pilots/{id}/tasks" : "/pilots/{id}/tasks?state={state}", pilot, state)
                .retrieve().body(PilotWire.Tasks.class)).tasks();
    }

    public PilotWire.Task get(String id) {
        checkId("task", id);
        return call("has no task " + id, http -> http.get().uri("/tasks/{id}", id).retrieve().body(PilotWire.Task.class));
    }

    /** Cancels a task; it is CANCELED once its agent (or, before it was queued, the manager) says so. */
    public PilotWire.Task cancel(String id) {
        checkId("task", id);
        return call("did not cancel task " + id, http -> http.post().uri("/tasks/{id}/cancel", id).retrieve().body(PilotWire.Task.class));
    }

    /** What a finished task printed; {@link MemberRefusedException} with reason {@code task-not-run} for one that never ran. */
    public PilotWire.Output output(String id) {
        checkId("task", id);
        return call("has no output of task " + id, http -> http.get().uri("/tasks/{id}/output", id).retrieve().body(PilotWire.Output.class));
    }

    /**
     * Waits until every task of {@code ids} is final, or {@code timeout} has passed.
     *
     * <p>An id the manager does not know is refused at once, as {@link #get} refuses it
     * ({@link MemberRefusedException}, {@code 404 unknown-task}), not waited for until the timeout; a
     * task of another session is refused with {@link IllegalArgumentException}, since a wait sees its
     * own session's tasks only. Tasks submitted through this task manager are known already; for the
     * others the wait asks the manager for the session's tasks once before it starts.
     */
    public Outcome waitAll(Collection<String> ids, Duration timeout) throws InterruptedException {
        return await(ids, timeout, false, task -> { });
    }

    /**
     * {@link #waitAll(Collection, Duration)}, telling {@code onFinal} of each task as it ends (a
     * progress bar): first of those that had ended already, then of the others as they end.
     */
    public Outcome waitAll(Collection<String> ids, Duration timeout, Consumer<PilotWire.Task> onFinal) throws InterruptedException {
        return await(ids, timeout, false, onFinal);
    }

    /**
     * Waits until one task of {@code ids} is final; empty when none is within {@code timeout}. Unknown
     * ids are refused at once, as by {@link #waitAll(Collection, Duration)}.
     */
    public Optional<PilotWire.Task> waitAny(Collection<String> ids, Duration timeout) throws InterruptedException {
        Outcome outcome = await(ids, timeout, true, task -> { });
        return outcome.finished().stream().findFirst();
    }

    /** Keeps where the feed stood when the manager accepted these tasks. */
    synchronized void remember(PilotWire.Submitted submitted) {
        long after = submitted.finalsAfter() == null ? 0 : submitted.finalsAfter();
        submitted.ids().forEach(id -> finalsAfter.put(id, after));
    }

    /** Where a wait for {@code ids} reads the finals feed from: the lowest of their remembered positions, 0 for any task not remembered. */
    synchronized long feedStart(Collection<String> ids) {
        long start = Long.MAX_VALUE;
        for (String id : ids) {
            start = Math.min(start, finalsAfter.getOrDefault(id, 0L));
        }
        return start == Long.MAX_VALUE ? 0 : start;
    }

    private Outcome await(Collection<String> ids, Duration timeout, boolean any, Consumer<PilotWire.Task> onFinal)
            throws InterruptedException {
        Lookup lookup = new Lookup() {
            @Override
            public List<PilotWire.Task> sessionTasks() {
                return list();
            }

            @Override
            public PilotWire.Task task(String id) {
                return get(id);
            }
        };
        return await(ids, timeout, any, onFinal, (after, wait) -> call("did not answer its finals feed", http -> http.get()
                .uri("/finals?after={after}&session={session}&wait={wait}", after, session, wait.toMillis() + "ms")
                .retrieve().body(PilotWire.Tasks.class)), lookup);
    }

    /** One read of the finals feed: the finals after sequence {@code after}, the manager waiting up to {@code wait} for one. */
    interface Feed {
        PilotWire.Tasks read(long after, Duration wait);
    }

    /** How a wait learns whether the manager knows the tasks it was given: {@link #list()} and {@link #get}. */
    interface Lookup {
        List<PilotWire.Task> sessionTasks();

        /** The task, or the manager's refusal ({@code unknown-task}). */
        PilotWire.Task task(String id);
    }

    /**
     * Refuses a wait for a task the manager does not know, or of another session, before it waits: the
     * finals feed would never name such a task, and the wait would end at its timeout with the task
     * pending, as if it were still running. Tasks submitted here are known; for the others one list of
     * the session, and for an id not in it the manager's own answer about that id.
     */
    private void refuseUnknown(Collection<String> ids, Lookup lookup) {
        Set<String> unchecked = new LinkedHashSet<>();
        synchronized (this) {
            for (String id : ids) {
                checkId("task", id);
                if (!finalsAfter.containsKey(id)) {
                    unchecked.add(id);
                }
            }
        }
        if (unchecked.isEmpty()) {
            return;
        }
        lookup.sessionTasks().forEach(task -> unchecked.remove(task.id()));
        for (String id : unchecked) {
            PilotWire.Task task = lookup.task(id);   // throws the manager's refusal for an unknown id
            throw new IllegalArgumentException("task " + id + " is of session " + task.session() + ", not " + session
                    + ": a wait sees its own session's tasks only; wait for it with fabric.tasks(\"" + manager + "\", \""
                    + task.session() + "\")");
        }
    }

    /**
     * Reads the feed until the tasks end. Every read is a long poll, the first too: the manager
     * answers at once when finals are there already, so a first read that does not wait would only
     * cost a request more for every wait whose tasks have not ended yet (one task at a time: every wait).
     * A wait with many tasks to go reads at most once a {@link #GATHER}, so each answer carries the
     * finals of that time.
     */
    Outcome await(Collection<String> ids, Duration timeout, boolean any, Consumer<PilotWire.Task> onFinal, Feed feed, Lookup lookup)
            throws InterruptedException {
        return await(ids, timeout, any, onFinal, feed, lookup, TimeUnit.NANOSECONDS::sleep);
    }

    /** How a wait pauses between reads of the feed ({@link #GATHER}). */
    interface Pause {
        void sleep(long nanos) throws InterruptedException;
    }

    Outcome await(Collection<String> ids, Duration timeout, boolean any, Consumer<PilotWire.Task> onFinal, Feed feed, Lookup lookup,
            Pause pause) throws InterruptedException {
        if (ids == null || timeout == null) {
            throw new IllegalArgumentException(ids == null ? "the task ids to wait for are null" : "the timeout of the wait is null");
        }
        refuseUnknown(ids, lookup);
        Set<String> pending = new LinkedHashSet<>(ids);
        Map<String, PilotWire.Task> finished = new LinkedHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        long after = feedStart(pending);
        Duration wait = patience(timeout);
        while (!pending.isEmpty() && !(any && !finished.isEmpty())) {
            long read = System.nanoTime();
            PilotWire.Tasks page = feed.read(after, wait);
            for (PilotWire.Task task : page.tasks()) {
                if (pending.remove(task.id())) {
                    finished.put(task.id(), task);
                    onFinal.accept(task);
                }
            }
            after = page.next();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for " + pending.size() + " tasks");
            }
            long gather = GATHER.toNanos() - (System.nanoTime() - read);
            if (!any && pending.size() > GATHER_ABOVE && gather > 0) {
                pause.sleep(Math.min(gather, left));
                left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
            }
            wait = patience(Duration.ofNanos(left));
        }
        return new Outcome(List.copyOf(finished.values()), pending);
    }

    /**
     * Refuses, before anything is sent, an id that cannot name a pilot or task (null, blank, or not
     * {@link Ids#PATTERN}): sent, a null went out as the text {@code null}, an empty one reached
     * another path of the API, and one with a {@code /} was refused without a reason.
     */
    static String checkId(String kind, String id) {
        if (id == null || id.isBlank()) {
            String example = switch (kind) {
                case "task" -> "; give the id submit answered, e.g. t-5b0c7d21e9f04a13";
                case "pilot" -> "; give the id submitPilot answered, e.g. pilot-3f9a2c71";
                default -> "";
            };
            throw new IllegalArgumentException("the " + kind + " id is " + (id == null ? "null" : "blank") + example);
        }
        if (!id.matches(Ids.PATTERN)) {
            throw new IllegalArgumentException("'" + id + "' is not a " + kind + " id: an id " + Ids.MESSAGE);
        }
        return id;
    }

    /** How long one read of the feed waits: what is left of the wait, at most {@link #POLL}, never negative. */
    private static Duration patience(Duration left) {
        return left.isNegative() ? Duration.ZERO : left.compareTo(POLL) > 0 ? POLL : left;
    }

    private <T> T call(String what, java.util.function.Function<RestClient, T> request) {
        return bound.call((RestClient http, URI url) -> {
            try {
                return request.apply(http);
            } catch (RestClientResponseException e) {
                if (FailOver.unreachable(e)) {
                    throw e;
                }
                throw client.refused(manager, e, what);
            }
        });
    }
}
