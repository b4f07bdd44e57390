package dev.fabric.core.signature;

import java.time.Duration;

/**
 * What the fabric demands of a signed request beyond a valid Ed25519 signature.
 *
 * @param skew how far {@code created} may lie from the verifier's clock, either way (default 30 s)
 * @param maxFieldBytes the largest {@code Signature-Input} or {@code Signature} field parsed (default 4 KiB)
 * @param label the signature label to check, or {@code null} for the first one present
 */
public record VerificationPolicy(Duration skew, int maxFieldBytes, String label) {

    public static final Duration DEFAULT_SKEW = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_FIELD_BYTES = 4096;

    public VerificationPolicy {
        if (skew.isNegative() || skew.isZero()) {
            throw new IllegalArgumentException("the clock-skew window must be positive, was " + skew);
        }
        if (maxFieldBytes < 64) {
            throw new IllegalArgumentException("maxFieldBytes must be at least 64, was " + maxFieldBytes);
        }
    }

    public static VerificationPolicy defaults() {
        return new VerificationPolicy(DEFAULT_SKEW, DEFAULT_MAX_FIELD_BYTES, null);
    }
}
