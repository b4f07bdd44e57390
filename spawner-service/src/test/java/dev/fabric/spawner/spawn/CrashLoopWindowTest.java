package dev.fabric.spawner.spawn;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class CrashLoopWindowTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void restartsUpToTheLimitWithinTheWindowThenGivesUp() {
        CrashLoopWindow window = new CrashLoopWindow(3, Duration.ofMinutes(5));
        assertThat(window.admit(T0)).isTrue();
        assertThat(window.admit(T0.plusSeconds(10))).isTrue();
        assertThat(window.admit(T0.plusSeconds(20))).isTrue();
        assertThat(window.admit(T0.plusSeconds(30))).isFalse();
        assertThat(window.givenUp()).isEqualTo("restarted 3 times within 300s; given up");
    }

    @Test
    void restartsOlderThanTheWindowNoLongerCount() {
        CrashLoopWindow window = new CrashLoopWindow(2, Duration.ofMinutes(5));
        assertThat(window.admit(T0)).isTrue();
        assertThat(window.admit(T0.plusSeconds(60))).isTrue();
        assertThat(window.admit(T0.plusSeconds(120))).isFalse();
        // The first restart has left the window: room for one more.
        assertThat(window.admit(T0.plusSeconds(301))).isTrue();
        assertThat(window.admit(T0.plusSeconds(302))).isFalse();
    }

    @Test
    void aRefusedRestartIsNotCounted() {
        CrashLoopWindow window = new CrashLoopWindow(1, Duration.ofSeconds(10));
        assertThat(window.admit(T0)).isTrue();
        assertThat(window.admit(T0.plusSeconds(5))).isFalse();
        assertThat(window.admit(T0.plusSeconds(11))).isTrue();
    }

    @Test
    void noRestartsAllowedMeansNone() {
        assertThat(new CrashLoopWindow(0, Duration.ofMinutes(5)).admit(T0)).isFalse();
    }
}
