package dev.fabric.core.signature;

/** A signature was not accepted; {@link #rejection()} says why, the message says what exactly. */
public final class SignatureRejectedException extends RuntimeException {

    private final Rejection rejection;

    public SignatureRejectedException(Rejection rejection, String detail) {
        super(detail, null, false, false);
        this.rejection = rejection;
    }

    public Rejection rejection() {
        return rejection;
    }
}
