package dev.fabric.spawner.role;

/** A restarted member could not pick up its old state; it exits and is marked LOST. */
public final class StateUnrecoverableException extends Exception {

    public StateUnrecoverableException(String message) {
        super(message);
    }

    public StateUnrecoverableException(String message, Throwable cause) {
        super(message, cause);
    }
}
