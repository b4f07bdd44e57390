package dev.fabric.core.splice;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class SplicePolicyTest {

    private static final Instant T0 = Instant.parse("2026-12-05T07:00:00Z");

    @Test
    void aFirstConnectionIsSplicedAtOnceAndASpareIsTakenFirst() {
        SplicePolicy policy = new SplicePolicy();

        assertThat(policy.decide(false)).isEqualTo(SplicePolicy.Decision.SPLICE_NOW);
        assertThat(policy.decide(true)).isEqualTo(SplicePolicy.Decision.SPARE);
        assertThat(policy.retryDue(T0.plus(Duration.ofHours(1)))).as("nothing failed, nothing to retry").isFalse();
    }

    @Test
    void afterAFailedSpliceConnectionsGoThroughTheBridgeAndRetriesFollowTheSchedule() {
        SplicePolicy policy = new SplicePolicy();
        policy.failed(T0);

        assertThat(policy.decide(false)).isEqualTo(SplicePolicy.Decision.RELAY);
        assertThat(policy.nextRetry()).isEqualTo(T0.plusSeconds(5));
        assertThat(policy.retryDue(T0.plusSeconds(4))).isFalse();
        assertThat(policy.retryDue(T0.plusSeconds(5))).isTrue();
        assertThat(policy.retryDue(T0.plusSeconds(5))).as("one retry at a time").isFalse();
        assertThat(policy.nextRetry()).as("none due while one runs").isNull();

        Instant at = T0.plusSeconds(5);
        policy.failed(at);
        assertThat(policy.nextRetry()).isEqualTo(at.plusSeconds(15));
        for (int i = 0; i < 10; i++) {
            policy.failed(at);
        }
        assertThat(policy.failures()).isEqualTo(12);
        assertThat(policy.nextRetry()).as("capped at every 5 min").isEqualTo(at.plus(Duration.ofMinutes(5)));
    }

    @Test
    void aSpliceThatWorksEndsTheRetriesAndTheNextConnectionSplicesAgain() {
        SplicePolicy policy = new SplicePolicy();
        policy.failed(T0);
        assertThat(policy.retryDue(T0.plusSeconds(5))).isTrue();

        policy.spliced();

        assertThat(policy.failures()).isZero();
        assertThat(policy.nextRetry()).isNull();
        assertThat(policy.retryDue(T0.plus(Duration.ofHours(1)))).isFalse();
        // A spliced connection that dropped leaves no spare: the next connection splices at once (or falls back).
        assertThat(policy.decide(false)).isEqualTo(SplicePolicy.Decision.SPLICE_NOW);
    }
}
