package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;

/**
 * The daemon rejected the request with EINVAL: a tag or index out of range, a DEL of an empty
 * slot, or a descriptor where none belongs.
 */
public final class RequestRejectedException extends EscrowException {

    public RequestRejectedException(String text, String message) {
        super(Posix.EINVAL, text, message);
    }
}
