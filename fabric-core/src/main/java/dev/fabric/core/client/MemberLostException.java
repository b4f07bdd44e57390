package dev.fabric.core.client;

/**
 * The member is LOST, and all its state with it: it could not
 * pick up its old state after a restart, so nothing that it held exists any more and it will not be
 * restarted under its id. The application decides what to do: start a fresh member of the same
 * type, if a new, empty one makes sense for it, or give up.
 */
public final class MemberLostException extends FabricClientException {

    private final String reason;

    MemberLostException(String memberId, String reason, Throwable cause) {
        super(memberId, "member " + memberId + " is LOST" + (reason == null || reason.isBlank() ? "" : " (" + reason + ")")
                + ": its state is gone for good and it will not be restarted under its id; spawn a fresh member"
                + " of its type if starting empty makes sense for the application", cause);
        this.reason = reason == null ? "" : reason;
    }

    /** Why the registry says it is lost, or empty. */
    public String reason() {
        return reason;
    }
}
