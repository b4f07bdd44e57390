package dev.fabric.core.problem;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A request a fabric server refuses: the HTTP status, a stable {@code reason} and a detail that says
 * what happened and what to do next. {@link FabricProblemAdvice} answers it as an RFC 9457
 * {@code problem+json}; each service subclasses it for its own reasons (docs/problems.md lists them).
 *
 * <p>No stack trace is filled in: a refusal is an answer, not a fault.
 */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String reason;
    private final Duration retryAfter;
    private final Map<String, Object> properties;

    public ProblemException(int status, String reason, String detail) {
        this(status, reason, detail, null);
    }

    /** @param retryAfter sent as {@code Retry-After} (whole seconds), or {@code null} */
    public ProblemException(int status, String reason, String detail, Duration retryAfter) {
        this(status, reason, detail, retryAfter, Map.of());
    }

    /**
     * @param properties more members of the problem object, for a client to act on (a pubsub's
     *                   {@code oldest}); never the standard members nor {@code reason}
     */
    public ProblemException(int status, String reason, String detail, Duration retryAfter, Map<String, Object> properties) {
        super(detail, null, false, false);
        for (String reserved : new String[] {"type", "title", "status", "detail", "instance", "reason"}) {
            if (properties.containsKey(reserved)) {
                throw new IllegalArgumentException("'" + reserved + "' is a member every problem has, not an extra property");
            }
        }
        this.properties = Map.copyOf(properties);
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("a problem has a 4xx or 5xx status, not " + status);
        }
        this.status = status;
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryAfter = retryAfter;
    }

    /** The HTTP status of the answer. */
    public int status() {
        return status;
    }

    /** The stable, lower-case, hyphenated reason ({@code unknown-instance}, {@code otp-refused}...). */
    public String reason() {
        return reason;
    }

    /** What happened, in words for the caller. */
    public String detail() {
        return getMessage();
    }

    /** The problem's members beyond the standard ones and {@code reason}. */
    public Map<String, Object> properties() {
        return properties;
    }

    /** How long the caller should wait before trying again, when the refusal is temporary. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
