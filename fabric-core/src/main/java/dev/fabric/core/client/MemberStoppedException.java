package dev.fabric.core.client;

/**
 * The member was stopped on purpose (STOPPED in the registry): a client does not bring it back.
 * Spawn a fresh member if the application still needs one.
 */
public final class MemberStoppedException extends FabricClientException {

    MemberStoppedException(String memberId, String reason, Throwable cause) {
        super(memberId, "member " + memberId + " was stopped on purpose" + (reason == null || reason.isBlank() ? "" : " (" + reason + ")")
                + "; it is not restarted by a client: spawn a fresh member if the application still needs one", cause);
    }
}
