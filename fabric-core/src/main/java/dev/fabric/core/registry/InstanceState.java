package dev.fabric.core.registry;

/**
 * The life of a fabric member, as the registry records it.
 *
 * <pre>
 * PENDING -> BOOTSTRAPPING -> RUNNING <-> SUSPECT -> DEAD
 *     \            \             \          \        \
 *      `------------`-------------`----------`--------`--> FAILED -> LOST
 * any live state -> STOPPED;  DEAD or FAILED -> (re-registered, new incarnation)
 * </pre>
 *
 * A restart under the same id is a new registration with a higher incarnation, not a transition.
 */
public enum InstanceState {
    /** Recorded by the spawner before the instance is launched. */
    PENDING,
    /** Launched; redeeming its one-time password and being configured. */
    BOOTSTRAPPING,
    /** Serving its role and heartbeating. */
    RUNNING,
    /** Missed heartbeats or reported unreachable; not yet declared dead. */
    SUSPECT,
    /** Missed enough heartbeats to be declared dead; a restart under the same id may follow. */
    DEAD,
    /** Failed by its own report, a failed bootstrap, or its spawner's observation. */
    FAILED,
    /** Could not recover its state: gone for good with all its state. */
    LOST,
    /** Stopped on purpose. */
    STOPPED;

    /** Whether the registry accepts the move from this state to {@code next}. */
    public boolean canMoveTo(InstanceState next) {
        return switch (this) {
            case PENDING -> next == BOOTSTRAPPING || next == RUNNING || next == FAILED || next == STOPPED;
            case BOOTSTRAPPING -> next == RUNNING || next == FAILED || next == STOPPED;
            case RUNNING -> next == SUSPECT || next == DEAD || next == FAILED || next == STOPPED;
            case SUSPECT -> next == RUNNING || next == DEAD || next == FAILED || next == STOPPED;
            case DEAD -> next == LOST || next == FAILED || next == STOPPED;
            case FAILED -> next == LOST || next == STOPPED;
            case LOST, STOPPED -> false;
        };
    }

    /**
     * Whether a change to the same state with a reason is recorded as a step of the bootstrap
     * (PENDING and BOOTSTRAPPING), so the history shows where a bootstrap stopped.
     */
    public boolean recordsSteps() {
        return this == PENDING || this == BOOTSTRAPPING;
    }

    /** Whether an instance in this state may be registered again under its id with a new incarnation. */
    public boolean canRestart() {
        return this != LOST;
    }
}
