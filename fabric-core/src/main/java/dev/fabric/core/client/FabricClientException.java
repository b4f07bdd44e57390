package dev.fabric.core.client;

/**
 * A call through {@link FabricClient} that could not be completed, even after its fail-over (report,
 * restart through the spawner, retry): the member is gone, stopped, or did not come back. The message
 * says what happened to which member and what to do next.
 */
public abstract sealed class FabricClientException extends RuntimeException
        permits MemberLostException, MemberStoppedException, MemberUnavailableException, MemberRefusedException, OffsetGoneException {

    private final String memberId;

    FabricClientException(String memberId, String message, Throwable cause) {
        super(message, cause);
        this.memberId = memberId;
    }

    /** The member the call was for. */
    public String memberId() {
        return memberId;
    }
}
