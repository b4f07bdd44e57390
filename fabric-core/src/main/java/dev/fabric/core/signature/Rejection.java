package dev.fabric.core.signature;

/**
 * Why a request's signature was not accepted. Each reason has its own {@link #code()}, used as the
 * {@code reason} of the {@code problem+json} answer and as the metric label, and its HTTP status.
 * No reason ever carries key material.
 */
public enum Rejection {
    /** The request carries no Signature and Signature-Input headers. */
    UNSIGNED("unsigned", 401),
    /** The signature headers are not valid structured fields. */
    MALFORMED("malformed-signature", 401),
    /** A signature header is larger than the verifier accepts. */
    HEADER_TOO_LARGE("header-too-large", 401),
    /** The signature uses an algorithm other than ed25519. */
    UNSUPPORTED_ALGORITHM("unsupported-algorithm", 401),
    /** The signature does not cover what the fabric requires. */
    INCOMPLETE("incomplete-signature", 401),
    /** The signature names a key this member does not trust. */
    UNKNOWN_KEY("unknown-key", 401),
    /** The signature does not match the request. */
    BAD_SIGNATURE("bad-signature", 401),
    /** The request was signed for another receiver. */
    WRONG_AUTHORITY("wrong-authority", 401),
    /** The body does not match its Content-Digest. */
    DIGEST_MISMATCH("digest-mismatch", 401),
    /** The signature was created outside the accepted clock-skew window. */
    EXPIRED("expired", 401),
    /** The signature's nonce was already used. */
    REPLAYED("replayed", 401),
    /** Too many signed requests in the skew window to remember their nonces. */
    REPLAY_CACHE_FULL("replay-cache-full", 503),
    /** The request body is larger than the verifier buffers. */
    BODY_TOO_LARGE("body-too-large", 413);

    private final String code;
    private final int status;

    Rejection(String code, int status) {
        this.code = code;
        this.status = status;
    }

    /** The stable, lower-case identifier: the {@code reason} field and the metric label. */
    public String code() {
        return code;
    }

    /** The HTTP status a server answers with. */
    public int status() {
        return status;
    }

}
