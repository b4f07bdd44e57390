package dev.fabric.spawner.web;

import dev.fabric.core.problem.ProblemException;
import org.springframework.http.HttpStatus;

import java.time.Duration;
import java.util.Map;

/** A request the spawner or a member refuses: its HTTP status, a stable {@code reason} and a message that says what to do. */
public class SpawnerException extends ProblemException {

    /** The one reason an unsigned caller hears when a one-time password is not accepted. */
    public static final String OTP_REFUSED = "otp-refused";

    public SpawnerException(HttpStatus status, String reason, String message) {
        super(status.value(), reason, message);
    }

    /** @param retryAfter sent as {@code Retry-After}: the refusal is temporary (see {@link ProblemException#retryAfter()}) */
    public SpawnerException(HttpStatus status, String reason, String message, Duration retryAfter) {
        super(status.value(), reason, message, retryAfter);
    }

    /** @param properties more members of the problem, for the client to act on (see {@link ProblemException#properties()}) */
    public SpawnerException(HttpStatus status, String reason, String message, Map<String, Object> properties) {
        super(status.value(), reason, message, null, properties);
    }

    /**
     * One answer for every refused one-time password, unknown, wrong, expired or used alike: the
     * caller is unsigned, and telling these apart would tell a stranger which service ids have a
     * password outstanding. The spawner's log and the member's state history keep the real cause.
     */
    public static SpawnerException otpRefused() {
        return new SpawnerException(HttpStatus.FORBIDDEN, OTP_REFUSED, "the one-time password was not accepted (a password is "
                + "good for one attempt by the member it was issued to, before it expires); the fabric keys were not released");
    }
}
