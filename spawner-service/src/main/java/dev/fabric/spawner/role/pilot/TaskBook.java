package dev.fabric.spawner.role.pilot;

import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Every task the pilot manager knows, in memory; what changes here is journaled first by the
 * manager ({@link PilotManager}), and the journal's replay rebuilds it. The decisions live here:
 * a final state is recorded once (the first final event wins, later duplicates are ignored), and a
 * non-final event never moves a task back.
 */
final class TaskBook {

    /** One task: its description as accepted, and what is known of its run. */
    static final class Entry {
        final TaskDescription description;
        final String session;
        final Instant submittedAt;
        TaskState state = TaskState.NEW;
        String agent;
        int attempt;
        /** Its message in the pilot's queue, once it is there (null before, and in journals older than the field). */
        String message;
        /** The final event, once there is one. */
        TaskEvent last;
        long sequence;

        Entry(TaskDescription description, String session, Instant submittedAt) {
            this.description = description;
            this.session = session;
            this.submittedAt = submittedAt;
        }

        PilotWire.Task view() {
            TaskEvent end = last;
            return new PilotWire.Task(description.id(), description.pilot(), session, description.name(), state,
                    end == null ? null : end.reason(), end == null ? null : end.detail(), agent, attempt, end == null ? null : end.exitStatus(),
                    end == null ? null : end.duration(), submittedAt, end == null ? null : end.at(), sequence);
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    private final Map<String, Entry> tasks = new HashMap<>();
    private final Map<String, List<Entry>> byPilot = new HashMap<>();
    /**
     * Each pilot's NEW tasks, in submission order: what its enqueuer takes, found without reading
     * every task the pilot ever had (a long pilot holds its finished tasks until its retention ends).
     */
    private final Map<String, Set<Entry>> fresh = new HashMap<>();
    /**
     * Final states by their sequence, the order they were recorded: the finals feed. A compaction of
     * the journal drops the tasks of pilots ended past the retention, so sequences may have gaps.
     */
    private final NavigableMap<Long, Entry> finals = new TreeMap<>();
    /** The highest sequence ever given, kept across a compaction that dropped its task, so none is given twice. */
    private long lastSequence;

    /** The ids of {@code descriptions} this book does not have yet: what a submission adds. */
    List<TaskDescription> unknown(List<TaskDescription> descriptions) {
        lock.lock();
        try {
            List<TaskDescription> fresh = new ArrayList<>();
            Map<String, Boolean> seen = new HashMap<>();
            for (TaskDescription description : descriptions) {
                if (!tasks.containsKey(description.id()) && seen.putIfAbsent(description.id(), true) == null) {
                    fresh.add(description);
                }
            }
            return fresh;
        } finally {
            lock.unlock();
        }
    }

    /** Records accepted tasks (NEW). */
    void accept(String session, Instant at, List<TaskDescription> descriptions) {
        lock.lock();
        try {
            for (TaskDescription description : descriptions) {
                if (tasks.containsKey(description.id())) {
                    continue;
                }
                Entry entry = new Entry(description, session, at);
                tasks.put(description.id(), entry);
                byPilot.computeIfAbsent(description.pilot(), p -> new ArrayList<>()).add(entry);
                fresh.computeIfAbsent(description.pilot(), p -> new LinkedHashSet<>()).add(entry);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records tasks in the queue, with their messages' ids ({@code messages}, in the same order, or
     * null when not known): NEW becomes QUEUED; a task further along stays where it is.
     */
    void queued(List<String> ids, List<String> messages) {
        lock.lock();
        try {
            for (int i = 0; i < ids.size(); i++) {
                Entry entry = tasks.get(ids.get(i));
                if (entry == null) {
                    continue;
                }
                if (messages != null && i < messages.size()) {
                    entry.message = messages.get(i);
                }
                if (entry.state == TaskState.NEW) {
                    move(entry, TaskState.QUEUED);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** A RUNNING event: the task runs (again, for a higher attempt) unless it has ended. */
    void running(TaskEvent event) {
        lock.lock();
        try {
            Entry entry = tasks.get(event.task());
            if (entry == null || entry.state.isFinal()) {
                return;
            }
            move(entry, TaskState.RUNNING);
            entry.agent = event.agent();
            entry.attempt = Math.max(entry.attempt, event.attempt());
        } finally {
            lock.unlock();
        }
    }

    /** Moves a task to {@code state}; one leaving NEW leaves its pilot's fresh tasks. Under the lock. */
    private void move(Entry entry, TaskState state) {
        if (entry.state == TaskState.NEW && state != TaskState.NEW) {
            Set<Entry> pilotFresh = fresh.get(entry.description.pilot());
            if (pilotFresh != null) {
                pilotFresh.remove(entry);
            }
        }
        entry.state = state;
    }

    /** Whether {@code event} would be this task's first final state (then the manager journals it, then calls {@link #end}). */
    boolean endsFirst(TaskEvent event) {
        lock.lock();
        try {
            Entry entry = tasks.get(event.task());
            return entry != null && !entry.state.isFinal();
        } finally {
            lock.unlock();
        }
    }

    /** The sequence the next final state gets. */
    long nextSequence() {
        lock.lock();
        try {
            return lastSequence + 1;
        } finally {
            lock.unlock();
        }
    }

    /** Records a final state; false (and nothing changes) when the task had one already or is unknown. */
    boolean end(TaskEvent event, long sequence) {
        lock.lock();
        try {
            Entry entry = tasks.get(event.task());
            if (entry == null || entry.state.isFinal()) {
                return false;
            }
            move(entry, event.state());
            entry.last = event;
            if (event.agent() != null) {
                entry.agent = event.agent();
            }
            entry.attempt = Math.max(entry.attempt, event.attempt());
            entry.sequence = sequence;
            finals.put(sequence, entry);
            lastSequence = Math.max(lastSequence, sequence);
            ended.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    Optional<Entry> get(String id) {
        lock.lock();
        try {
            return Optional.ofNullable(tasks.get(id));
        } finally {
            lock.unlock();
        }
    }

    Optional<PilotWire.Task> view(String id) {
        return get(id).map(this::viewLocked);
    }

    private PilotWire.Task viewLocked(Entry entry) {
        lock.lock();
        try {
            return entry.view();
        } finally {
            lock.unlock();
        }
    }

    /** The tasks of a pilot (or of every pilot, when null), of a session and state when given, in submission order. */
    List<PilotWire.Task> list(String pilot, String session, TaskState state) {
        lock.lock();
        try {
            List<PilotWire.Task> listed = new ArrayList<>();
            Iterable<Entry> entries = pilot != null ? byPilot.getOrDefault(pilot, List.of())
                    : byPilot.values().stream().flatMap(List::stream).sorted((a, b) -> a.submittedAt.compareTo(b.submittedAt)).toList();
            for (Entry entry : entries) {
                if ((session == null || session.equals(entry.session)) && (state == null || state == entry.state)) {
                    listed.add(entry.view());
                }
            }
            return listed;
        } finally {
            lock.unlock();
        }
    }

    /** The tasks of a pilot that are in one of the given states: what to enqueue, what a pilot's end cancels. */
    List<TaskDescription> inState(String pilot, TaskState... states) {
        lock.lock();
        try {
            List<TaskDescription> found = new ArrayList<>();
            for (Entry entry : byPilot.getOrDefault(pilot, List.of())) {
                for (TaskState state : states) {
                    if (entry.state == state) {
                        found.add(entry.description);
                    }
                }
            }
            return found;
        } finally {
            lock.unlock();
        }
    }

    /** A pilot's NEW tasks, in submission order: what its enqueuer puts in its queue. */
    List<TaskDescription> fresh(String pilot) {
        lock.lock();
        try {
            Set<Entry> pilotFresh = fresh.get(pilot);
            if (pilotFresh == null) {
                return List.of();
            }
            List<TaskDescription> found = new ArrayList<>(pilotFresh.size());
            pilotFresh.forEach(entry -> found.add(entry.description));
            return found;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a pilot has NEW tasks. */
    boolean hasFresh(String pilot) {
        lock.lock();
        try {
            Set<Entry> pilotFresh = fresh.get(pilot);
            return pilotFresh != null && !pilotFresh.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** How many tasks of a pilot are in each state. */
    Map<TaskState, Long> counts(String pilot) {
        lock.lock();
        try {
            Map<TaskState, Long> counts = new EnumMap<>(TaskState.class);
            for (Entry entry : byPilot.getOrDefault(pilot, List.of())) {
                counts.merge(entry.state, 1L, Long::sum);
            }
            return counts;
        } finally {
            lock.unlock();
        }
    }

    /** Counts over every pilot, for the role's status and metrics. */
    Map<TaskState, Long> counts() {
        lock.lock();
        try {
            Map<TaskState, Long> counts = new LinkedHashMap<>();
            for (TaskState state : TaskState.values()) {
                counts.put(state, 0L);
            }
            tasks.values().forEach(entry -> counts.merge(entry.state, 1L, Long::sum));
            return counts;
        } finally {
            lock.unlock();
        }
    }

    /** After a compaction's marker: sequences up to {@code last} were given, even to tasks no longer here. */
    void sequencedUpTo(long last) {
        lock.lock();
        try {
            lastSequence = Math.max(lastSequence, last);
        } finally {
            lock.unlock();
        }
    }

    /** The highest sequence given so far (0 before the first final state). */
    long lastSequence() {
        lock.lock();
        try {
            return lastSequence;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the book holds any task of this pilot. */
    boolean holds(String pilot) {
        lock.lock();
        try {
            return !byPilot.getOrDefault(pilot, List.of()).isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Drops every task of a pilot (its retention is over); answers how many. */
    int forget(String pilot) {
        lock.lock();
        try {
            List<Entry> dropped = byPilot.remove(pilot);
            fresh.remove(pilot);
            if (dropped == null) {
                return 0;
            }
            for (Entry entry : dropped) {
                tasks.remove(entry.description.id());
                if (entry.state.isFinal()) {
                    finals.remove(entry.sequence, entry);
                }
            }
            return dropped.size();
        } finally {
            lock.unlock();
        }
    }

    /** Every task, in submission order per pilot, for a compaction of the journal. */
    List<Entry> entries() {
        lock.lock();
        try {
            return byPilot.values().stream().flatMap(List::stream).toList();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The finals feed: tasks (of a session or pilot when given) whose final state was recorded after
     * sequence {@code after}, waiting up to {@code wait} for one when there is none yet.
     */
    PilotWire.Tasks finalsAfter(long after, String session, String pilot, Duration wait) throws InterruptedException {
        lock.lock();
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            long from = Math.max(0, after);
            List<PilotWire.Task> found = new ArrayList<>();
            while (true) {
                for (Entry entry : finals.tailMap(from, false).values()) {
                    if ((session == null || session.equals(entry.session))
                            && (pilot == null || pilot.equals(entry.description.pilot()))) {
                        found.add(entry.view());
                    }
                }
                from = Math.max(from, lastSequence);
                long left = deadline - System.nanoTime();
                if (!found.isEmpty() || left <= 0) {
                    return new PilotWire.Tasks(found, from);
                }
                ended.await(left, TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }
}
