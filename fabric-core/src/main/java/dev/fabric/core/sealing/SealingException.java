package dev.fabric.core.sealing;

/** Sealed keys could not be made or opened: tampered, meant for another service or key, or malformed. */
public final class SealingException extends RuntimeException {
    public SealingException(String message) {
        super(message);
    }

    public SealingException(String message, Throwable cause) {
        super(message, cause);
    }
}
