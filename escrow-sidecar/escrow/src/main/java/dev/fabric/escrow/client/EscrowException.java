package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;

import java.io.IOException;

/**
 * An escrow operation failed. {@link #errno()} is the (positive) errno: for errors the daemon
 * reported, the negation of its REP {@code rc}; {@link #text()} is the daemon's reply text, or
 * our own description when the failure happened on this side.
 */
public class EscrowException extends IOException {

    private final int errno;
    private final String text;

    public EscrowException(int errno, String text, String message) {
        super(message);
        this.errno = errno;
        this.text = text;
    }

    public EscrowException(int errno, String text, String message, Throwable cause) {
        super(message, cause);
        this.errno = errno;
        this.text = text;
    }

    /** The errno, positive (2 for ENOENT, 22 for EINVAL, ...). */
    public int errno() {
        return errno;
    }

    /** The C convention: the negated errno, as the daemon sends it in REP. */
    public int rc() {
        return -errno;
    }

    /** The daemon's reply text (for example {@code Non-existent index in a GET request.}). */
    public String text() {
        return text;
    }

    /** The typed exception for a daemon's error reply. */
    static EscrowException fromReply(int rc, String text, String what) {
        int errno = -rc;
        String message = what + ": escrowd answered " + rc + " (" + Posix.name(errno) + ") \"" + text + "\"";
        return switch (errno) {
            case Posix.ENOENT -> new SlotNotFoundException(text, message);
            case Posix.EINVAL -> new RequestRejectedException(text, message);
            case Posix.EPROTO -> new EscrowProtocolException(text, message);
            case Posix.ENOSPC -> new EscrowFullException(text, message);
            default -> new EscrowException(errno, text, message);
        };
    }
}
