package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;

/**
 * The daemon refused an ADD with ENOSPC ({@code -28 "Escrow full: ..."}): it holds its maximum of
 * slots or of payload bytes (our escrowd's {@code --max-slots} and {@code --max-payload-bytes}).
 * Nothing was stored and the session goes on: DEL slots that are no longer needed, or start the
 * daemon with higher limits.
 */
public final class EscrowFullException extends EscrowException {

    public EscrowFullException(String text, String message) {
        super(Posix.ENOSPC, text, message);
    }
}
