package dev.fabric.core.client;

/**
 * A live member refused a request the client made on its own behalf, e.g. CONNECT to a session
 * the member does not serve: its {@code problem+json} answer, made readable.
 */
public final class MemberRefusedException extends FabricClientException {

    private final int status;
    private final String reason;

    MemberRefusedException(String memberId, int status, String reason, String message, Throwable cause) {
        super(memberId, message, cause);
        this.status = status;
        this.reason = reason == null ? "" : reason;
    }

    /** The HTTP status of the member's answer. */
    public int status() {
        return status;
    }

    /** The problem's {@code reason}, e.g. {@code unknown-session}, or empty. */
    public String reason() {
        return reason;
    }
}
