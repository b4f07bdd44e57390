package dev.fabric.core.registry;

import java.time.Duration;
import java.util.Optional;

/**
 * A call of this process to the registry that failed: the registry's answer ({@code status} and
 * its problem {@code reason}), or {@code status} 0 when the registry could not be reached at all.
 * Not to be confused with the registry's own refusals, which it answers as problems.
 */
public final class RegistryCallException extends RuntimeException {

    private final int status;
    private final String reason;
    private final Duration retryAfter;

    public RegistryCallException(int status, String reason, String message, Throwable cause) {
        this(status, reason, message, cause, null);
    }

    /** @param retryAfter the answer's {@code Retry-After}, or {@code null} */
    public RegistryCallException(int status, String reason, String message, Throwable cause, Duration retryAfter) {
        super(message, cause);
        this.status = status;
        this.reason = reason == null ? "" : reason;
        this.retryAfter = retryAfter;
    }

    /** The answer's {@code Retry-After}: when the registry asked to be tried again. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** The HTTP status, or 0 when no answer came. */
    public int status() {
        return status;
    }

    /** The problem's {@code reason} (e.g. {@code unknown-instance}, {@code stale-incarnation}), or empty. */
    public String reason() {
        return reason;
    }

    /** Whether the registry did not answer (refused, timed out, unknown host). */
    public boolean unreachable() {
        return status == 0;
    }

    public boolean notFound() {
        return status == 404;
    }
}
