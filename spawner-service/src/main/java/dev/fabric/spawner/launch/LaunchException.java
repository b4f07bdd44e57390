package dev.fabric.spawner.launch;

/** A member could not be started; the message says what failed and what to check. */
public final class LaunchException extends RuntimeException {

    private final boolean unreachable;

    public LaunchException(String message) {
        this(message, null, false);
    }

    public LaunchException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private LaunchException(String message, Throwable cause, boolean unreachable) {
        super(message, cause);
        this.unreachable = unreachable;
    }

    /** The host the member goes to did not answer: a cut network heals, so trying again later may work. */
    public static LaunchException unreachable(String message, Throwable cause) {
        return new LaunchException(message, cause, true);
    }

    /** Whether the host did not answer at all (not: it answered and refused). */
    public boolean unreachable() {
        return unreachable;
    }
}
