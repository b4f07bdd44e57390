package dev.fabric.spawner.bootstrap;

/** A bootstrap that cannot finish; the message is the reason recorded with the member's FAILED state. */
public final class BootstrapFailure extends RuntimeException {

    public BootstrapFailure(String message) {
        super(message);
    }

    public BootstrapFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
