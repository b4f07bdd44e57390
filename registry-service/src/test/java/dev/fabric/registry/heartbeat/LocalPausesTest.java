package dev.fabric.registry.heartbeat;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class LocalPausesTest {

    private static final Instant T = Instant.parse("2026-12-05T03:00:00Z");
    private final LocalPauses pauses = new LocalPauses(Duration.ofSeconds(2), Duration.ofSeconds(20));

    @Test
    void observationsCloserThanTheThresholdLeaveEverySilenceWhole() {
        assertThat(pauses.observed(T)).isZero();
        assertThat(pauses.observed(T.plusMillis(500))).isZero();
        assertThat(pauses.observed(T.plusMillis(2500))).isZero();
        assertThat(pauses.within(T.minusSeconds(10), T.plusSeconds(10))).isZero();
    }

    @Test
    void theTimeBetweenObservationsFurtherApartIsLeftOutOfTheSilencesItOverlaps() {
        pauses.observed(T);
        assertThat(pauses.observed(T.plusSeconds(8))).isEqualTo(Duration.ofSeconds(8));

        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(9))).as("heard from before, looked at after").isEqualTo(Duration.ofSeconds(8));
        assertThat(pauses.within(T.plusSeconds(5), T.plusSeconds(9))).as("heard from during it").isEqualTo(Duration.ofSeconds(3));
        assertThat(pauses.within(T.plusSeconds(8), T.plusSeconds(20))).as("heard from after it").isZero();
    }

    @Test
    void anObservationReadBeforeOneAlreadyMadeChangesNothing() {
        pauses.observed(T.plusSeconds(8));
        assertThat(pauses.observed(T)).as("a thread that read the clock earlier and got the lock later").isZero();
        assertThat(pauses.observed(T.plusSeconds(9))).isZero();
        assertThat(pauses.within(T, T.plusSeconds(9))).isZero();
    }

    @Test
    void spansAddUpAndAreForgottenPastTheHorizon() {
        pauses.observed(T);
        pauses.observed(T.plusSeconds(3));
        pauses.observed(T.plusSeconds(10));
        pauses.observed(T.plusSeconds(15));
        assertThat(pauses.within(T, T.plusSeconds(16))).isEqualTo(Duration.ofSeconds(15));

        // 20 s after the last span ended, none can matter to a silence the detector acts on.
        for (int s = 16; s <= 40; s++) {
            pauses.observed(T.plusSeconds(s));
        }
        assertThat(pauses.within(T, T.plusSeconds(40))).isZero();
    }

    @Test
    void passesTheDatabaseRefusedMakeOneSpanKeptUntilItsEndIsPastTheHorizon() {
        for (int i = 0; i < 60; i++) {
            pauses.observed(T.plusMillis(500L * i));
            pauses.couldNotLook(T.plusMillis(500L * i), T.plusMillis(500L * (i + 1)));
        }
        pauses.observed(T.plusSeconds(30));
        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(31))).isEqualTo(Duration.ofSeconds(30));
        for (int s = 31; s <= 49; s++) {
            pauses.observed(T.plusSeconds(s));
        }
        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(49))).as("its end within the horizon").isEqualTo(Duration.ofSeconds(30));
        pauses.observed(T.plusSeconds(51));
        assertThat(pauses.within(T.minusSeconds(1), T.plusSeconds(51))).isZero();
    }

    @Test
    void aStopAndAnOutageThatOverlapAreCountedOnce() {
        pauses.observed(T.plusSeconds(10));
        pauses.observed(T.plusSeconds(18));
        pauses.couldNotLook(T.plusSeconds(5), T.plusSeconds(19));
        pauses.couldNotLook(T.plusSeconds(1), T.plusSeconds(3));
        assertThat(pauses.within(T, T.plusSeconds(20))).isEqualTo(Duration.ofSeconds(16));
    }
}
