package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;

/**
 * The daemon is serving another session (the one-session hand-off) and did not take ours within
 * the wait timeout given to {@link Escrow#open(java.nio.file.Path, int, int, java.time.Duration)}.
 */
public final class EscrowBusyException extends EscrowException {

    public EscrowBusyException(String message) {
        super(Posix.ETIMEDOUT, "", message);
    }
}
