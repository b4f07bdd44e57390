package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;

/** The two sides disagree about the protocol (EPROTO): an unexpected message type, or bytes that are no message. */
public final class EscrowProtocolException extends EscrowException {

    public EscrowProtocolException(String text, String message) {
        super(Posix.EPROTO, text, message);
    }
}
