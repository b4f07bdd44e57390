package dev.fabric.escrow.client;

/**
 * No escrowd could be reached: nobody listens at the path (ENOENT, ECONNREFUSED) and
 * {@link Escrow#CREAT} was not given or the started daemon did not come up; or the daemon
 * closed the session (ESHUTDOWN), for example because our uid is not allowed.
 */
public final class EscrowUnavailableException extends EscrowException {

    public EscrowUnavailableException(int errno, String message) {
        super(errno, "", message);
    }

    public EscrowUnavailableException(int errno, String message, Throwable cause) {
        super(errno, "", message, cause);
    }
}
