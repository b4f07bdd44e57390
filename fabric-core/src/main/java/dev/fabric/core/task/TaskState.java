package dev.fabric.core.task;

/**
 * The life of a task, as agents publish it and the pilot manager records it.
 *
 * <pre>
 * NEW -> QUEUED -> RUNNING -> DONE | FAILED | CANCELED
 *           \                          ^          ^
 *            `-------------------------'----------'   (an invalid or canceled task never runs)
 * </pre>
 *
 * A task whose agent was lost while running it may be RUNNING again (a higher {@code attempt}); a
 * final state is final: the first one recorded for a task wins.
 */
public enum TaskState {
    /** Accepted by the pilot manager, not yet in the pilot's queue. */
    NEW,
    /** In the pilot's queue, waiting for a free slot of an agent. */
    QUEUED,
    /** Running as a process in an agent's sandbox. */
    RUNNING,
    /** Exited with status 0. */
    DONE,
    /** Did not run to a zero exit: see the event's {@code reason}. */
    FAILED,
    /** Canceled before or while it ran. */
    CANCELED;

    /** Whether no state follows this one. */
    public boolean isFinal() {
        return this == DONE || this == FAILED || this == CANCELED;
    }
}
