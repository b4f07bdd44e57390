package dev.fabric.core.registry;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** When a member tries its registration again, decided without a network. */
class RegistrationRetryTest {

    static final RegistrationRetry NO_JITTER = new RegistrationRetry(Duration.ofSeconds(60), () -> 0.0);
    static final RegistrationRetry MOST_JITTER = new RegistrationRetry(Duration.ofSeconds(60), () -> 0.999);

    static RegistryCallException refused(int status, String reason, Duration retryAfter) {
        return new RegistryCallException(status, reason, "refused", null, retryAfter);
    }

    @Test
    void aBusyRegistryIsTriedAgainAfterTheTimeItNamesPlusUpToAsMuchAgain() {
        RegistryCallException busy = refused(503, "registry-busy", Duration.ofSeconds(2));
        assertThat(NO_JITTER.after(busy, 1, Duration.ZERO)).contains(Duration.ofSeconds(2));
        assertThat(MOST_JITTER.after(busy, 1, Duration.ZERO)).contains(Duration.ofMillis(3998));
    }

    @Test
    void refusalsWithoutATimeBackOffFromOneSecondDoublingToEight() {
        RegistryCallException unavailable = refused(503, "database-unavailable", null);
        assertThat(NO_JITTER.after(unavailable, 1, Duration.ZERO)).contains(Duration.ofSeconds(1));
        assertThat(NO_JITTER.after(unavailable, 2, Duration.ZERO)).contains(Duration.ofSeconds(2));
        assertThat(NO_JITTER.after(unavailable, 3, Duration.ZERO)).contains(Duration.ofSeconds(4));
        assertThat(NO_JITTER.after(unavailable, 9, Duration.ZERO)).contains(Duration.ofSeconds(8));
        assertThat(NO_JITTER.after(refused(503, "registry-busy", Duration.ofSeconds(1)), 3, Duration.ZERO))
                .as("a later refusal waits longer than the registry's own hint").contains(Duration.ofSeconds(4));
    }

    @Test
    void aRequestThatAgedOnItsWayIsSignedAfreshAndSentAgainSoon() {
        assertThat(NO_JITTER.after(refused(401, "expired", null), 1, Duration.ZERO)).contains(Duration.ofMillis(200));
    }

    @Test
    void whatTheMemberGotWrongOrCannotReachIsNotTriedAgain() {
        assertThat(NO_JITTER.after(refused(401, "bad-signature", null), 1, Duration.ZERO)).isEmpty();
        assertThat(NO_JITTER.after(refused(409, "stale-incarnation", null), 1, Duration.ZERO)).isEmpty();
        assertThat(NO_JITTER.after(refused(400, "invalid-request", null), 1, Duration.ZERO)).isEmpty();
        assertThat(NO_JITTER.after(refused(0, "unreachable", null), 1, Duration.ZERO)).isEmpty();
    }

    @Test
    void noAttemptStartsAfterTheBudget() {
        RegistryCallException busy = refused(503, "registry-busy", Duration.ofSeconds(1));
        assertThat(NO_JITTER.after(busy, 5, Duration.ofSeconds(59))).isEmpty();
        assertThat(NO_JITTER.after(busy, 5, Duration.ofSeconds(51))).contains(Duration.ofSeconds(8));
    }
}
