package dev.fabric.core.keys;

/** The fabric keys could not be generated, read, written or trusted; the message says which file and why. */
public class FabricKeysException extends RuntimeException {
    public FabricKeysException(String message) {
        super(message);
    }

    public FabricKeysException(String message, Throwable cause) {
        super(message, cause);
    }
}
