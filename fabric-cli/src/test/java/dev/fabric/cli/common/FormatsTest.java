package dev.fabric.cli.common;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FormatsTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    @Test
    void agesUseTheTwoLargestUnits() {
        assertThat(Formats.age(NOW.minusSeconds(5), NOW)).isEqualTo("5s ago");
        assertThat(Formats.age(NOW.minusSeconds(4 * 60 + 12), NOW)).isEqualTo("4m12s ago");
        assertThat(Formats.age(NOW.minusSeconds(120), NOW)).isEqualTo("2m ago");
        assertThat(Formats.age(NOW.minusSeconds(3 * 3600 + 7 * 60 + 9), NOW)).isEqualTo("3h7m ago");
        assertThat(Formats.age(NOW.minusSeconds(2 * 86_400 + 5 * 3600), NOW)).isEqualTo("2d5h ago");
        assertThat(Formats.age(NOW.plusSeconds(3), NOW)).as("a clock ahead of ours").isEqualTo("0s ago");
        assertThat(Formats.age(null, NOW)).isEqualTo("-");
    }

    @Test
    void timesAreUtcIso8601() {
        assertThat(Formats.time(Instant.parse("2026-03-01T12:00:00.123456Z"))).isEqualTo("2026-03-01T12:00:00Z");
        assertThat(Formats.timeMillis(Instant.parse("2026-03-01T12:00:00.123456Z"))).isEqualTo("2026-03-01T12:00:00.123Z");
        assertThat(Formats.timeMillis(Instant.parse("2026-03-01T12:00:00Z"))).isEqualTo("2026-03-01T12:00:00.000Z");
        assertThat(Formats.time(null)).isEqualTo("-");
    }

    @Test
    void mapsAreSortedByKey() {
        assertThat(Formats.map(Map.of("service", "tcp://h:2", "management", "http://h:1"))).isEqualTo("management=http://h:1,service=tcp://h:2");
        assertThat(Formats.map(Map.of())).isEqualTo("-");
    }
}
