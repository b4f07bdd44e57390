package dev.fabric.core.otp;

/** A one-time password was not accepted; {@link #reason()} says why. The message never holds the password. */
public final class OtpRejectedException extends RuntimeException {

    /** Why a redemption failed. */
    public enum Reason {
        /** No password is outstanding for that service id (never issued, discarded, or redeemed and forgotten). */
        UNKNOWN,
        /** The password does not match the one issued to that service id. */
        WRONG,
        /** The password's time to live has passed. */
        EXPIRED,
        /** The password was already redeemed. */
        USED
    }

    private final Reason reason;
    private final String serviceId;

    public OtpRejectedException(Reason reason, String serviceId, String message) {
        super(message, null, false, false);
        this.reason = reason;
        this.serviceId = serviceId;
    }

    public Reason reason() {
        return reason;
    }

    public String serviceId() {
        return serviceId;
    }
}
