package dev.fabric.escrow.daemon;

import java.io.IOException;

/** Another escrowd already serves this path (it holds the lock, or something answers on the socket). */
public final class AlreadyServingException extends IOException {

    public AlreadyServingException(String message) {
        super(message);
    }
}
