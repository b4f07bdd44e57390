package dev.fabric.spawner.launch;

/** A member could not be started; the message says what failed and what to check. */
public final class LaunchException extends RuntimeException {

    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
