package dev.fabric.core.pilot;

/**
 * The life of a pilot, as its pilot manager records it in its journal.
 *
 * <pre>
 * NEW -> LAUNCHING -> ACTIVE -> DONE       (its runtime limit reached)
 *           |           |   \-> CANCELED   (DELETE /pilots/v1/pilots/{id})
 *           |           \-----> FAILED     (an agent lost and not replaceable)
 *           \-> FAILED | CANCELED          (a spawn refused, a member LOST while launching)
 * </pre>
 *
 * An ACTIVE pilot whose agent is LOST stays ACTIVE while the manager replaces the agent.
 */
public enum PilotState {
    /** Accepted and journaled; nothing spawned yet. */
    NEW,
    /** Its queue, pubsub and agents are being spawned. */
    LAUNCHING,
    /** Every member RUNNING: its agents run the tasks of its queue. */
    ACTIVE,
    /** Its runtime limit was reached; its members were stopped. */
    DONE,
    /** It could not launch, or lost what it cannot replace; {@code reason} says what. */
    FAILED,
    /** Canceled on request; its members were stopped. */
    CANCELED;

    /** Whether no state follows this one. */
    public boolean isFinal() {
        return this == DONE || this == FAILED || this == CANCELED;
    }
}
