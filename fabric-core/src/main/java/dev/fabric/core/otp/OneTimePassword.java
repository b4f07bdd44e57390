package dev.fabric.core.otp;

import java.util.Objects;

/**
 * A one-time password as handed to a new service (in its environment or a Kubernetes Secret):
 * 256 random bits, base64url without padding (43 characters). {@link #toString()} hides the value,
 * so logging the object never leaks it; {@link #reveal()} is the one way to the secret.
 */
public final class OneTimePassword {

    private final String value;

    OneTimePassword(String value) {
        this.value = Objects.requireNonNull(value);
    }

    /** Wraps a password received from elsewhere (a new service reads it from its environment). */
    public static OneTimePassword of(String value) {
        return new OneTimePassword(value);
    }

    /** The secret itself, for the launcher that passes it on. Never log it. */
    public String reveal() {
        return value;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof OneTimePassword o && java.security.MessageDigest.isEqual(
                value.getBytes(java.nio.charset.StandardCharsets.US_ASCII), o.value.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Override
    public int hashCode() {
        return 0;
    }

    @Override
    public String toString() {
        return "OneTimePassword[****]";
    }
}
