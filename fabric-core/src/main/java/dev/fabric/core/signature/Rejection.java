package dev.fabric.core.signature;

/**
 * Why a request's signature was not accepted. Each reason has its own {@link #code()}, used as the
 * {@code reason} of the {@code problem+json} answer and as the metric label, and its HTTP status.
 * No reason ever carries key material.
 */
public enum Rejection {
    UNSIGNED("unsigned", 401, "The request carries no Signature and Signature-Input headers"),
    MALFORMED("malformed-signature", 401, "The signature headers are not valid structured fields"),
    HEADER_TOO_LARGE("header-too-large", 401, "A signature header is larger than the verifier accepts"),
    UNSUPPORTED_ALGORITHM("unsupported-algorithm", 401, "The signature uses an algorithm other than ed25519"),
    INCOMPLETE("incomplete-signature", 401, "The signature does not cover what the fabric requires"),
    UNKNOWN_KEY("unknown-key", 401, "The signature names a key this member does not trust"),
    BAD_SIGNATURE("bad-signature", 401, "The signature does not match the request"),
    WRONG_AUTHORITY("wrong-authority", 401, "The request was signed for another receiver"),
    DIGEST_MISMATCH("digest-mismatch", 401, "The body does not match its Content-Digest"),
    EXPIRED("expired", 401, "The signature was created outside the accepted clock-skew window"),
    REPLAYED("replayed", 401, "The signature's nonce was already used"),
    REPLAY_CACHE_FULL("replay-cache-full", 503, "Too many signed requests in the skew window to remember their nonces"),
    BODY_TOO_LARGE("body-too-large", 413, "The request body is larger than the verifier buffers");

    private final String code;
    private final int status;
    private final String title;

    Rejection(String code, int status, String title) {
        this.code = code;
        this.status = status;
        this.title = title;
    }

    /** The stable, lower-case identifier: the {@code reason} field and the metric label. */
    public String code() {
        return code;
    }

    /** The HTTP status a server answers with. */
    public int status() {
        return status;
    }

    /** What the rejection means, in a sentence (the problem's {@code title} is the status phrase; its detail says what was wrong). */
    public String title() {
        return title;
    }
}
