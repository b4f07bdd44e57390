package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;

/** GET of an empty slot: the daemon answered ENOENT ("Non-existent index in a GET request."). */
public final class SlotNotFoundException extends EscrowException {

    public SlotNotFoundException(String text, String message) {
        super(Posix.ENOENT, text, message);
    }
}
