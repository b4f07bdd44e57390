package dev.fabric.registry.heartbeat;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class LocalPausesTest {

    private static final Instant T = Instant.parse("2026-12-05T03:00:00Z");
    private final LocalPauses pauses = new LocalPauses(Duration.ofSeconds(2), Duration.ofSeconds(20));

    @Test
    void aPassOnTimeOrLateWithinTheThresholdLeavesEverySilenceWhole() {
        assertThat(pauses.passStarted(T, T.plusMillis(2000))).isZero();
        assertThat(pauses.within(T.minusSeconds(10), T.plusSeconds(10))).isZero();
    }

    @Test
    void theTimeALatePassCouldNotLookIsLeftOutOfTheSilencesItOverlaps() {
        assertThat(pauses.passStarted(T, T.plusSeconds(8))).isEqualTo(Duration.ofSeconds(8));

        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(9))).as("heard from before, looked at after").isEqualTo(Duration.ofSeconds(8));
        assertThat(pauses.within(T.plusSeconds(5), T.plusSeconds(9))).as("heard from during it").isEqualTo(Duration.ofSeconds(3));
        assertThat(pauses.within(T.plusSeconds(8), T.plusSeconds(20))).as("heard from after it").isZero();
    }

    @Test
    void spansAddUpAndAreForgottenPastTheHorizon() {
        pauses.passStarted(T, T.plusSeconds(3));
        pauses.passStarted(T.plusSeconds(10), T.plusSeconds(15));
        assertThat(pauses.within(T, T.plusSeconds(16))).isEqualTo(Duration.ofSeconds(8));

        // 20 s after the second span ended, neither can matter to a silence the detector acts on.
        pauses.passStarted(T.plusSeconds(40), T.plusSeconds(40));
        assertThat(pauses.within(T, T.plusSeconds(40))).isZero();
    }

    @Test
    void passesTheDatabaseRefusedMakeOneSpanKeptUntilItsEndIsPastTheHorizon() {
        for (int i = 0; i < 60; i++) {
            pauses.couldNotLook(T.plusMillis(500L * i), T.plusMillis(500L * (i + 1)));
        }
        pauses.passStarted(T.plusSeconds(30), T.plusSeconds(30));
        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(31))).isEqualTo(Duration.ofSeconds(30));
        pauses.passStarted(T.plusSeconds(49), T.plusSeconds(49));
        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(49))).as("its end within the horizon").isEqualTo(Duration.ofSeconds(30));
        pauses.passStarted(T.plusSeconds(51), T.plusSeconds(51));
        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(51))).isZero();
    }
}
