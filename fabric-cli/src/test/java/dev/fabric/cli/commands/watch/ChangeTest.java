package dev.fabric.cli.commands.watch;

import dev.fabric.cli.registry.RegistryWire;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ChangeTest {

    private static final Instant UPDATED = Instant.parse("2026-03-01T12:00:00.250Z");
    private static final RegistryWire.Instance WEB = new RegistryWire.Instance("web-1", "web", "web-1", "SUSPECT", "missed 3 heartbeats", 1, null,
            "DIRECT", Map.of(), Map.of(), UPDATED, UPDATED, UPDATED);

    @Test
    void aStateChangeShowsFromToAndReason() {
        Change change = new Change(12, "STATE", WEB, "RUNNING", "SUSPECT", "missed 3 heartbeats", null, null);
        assertThat(change.line()).isEqualTo("12      2026-03-01T12:00:00.250Z  STATE            web-1  RUNNING -> SUSPECT  missed 3 heartbeats");
    }

    @Test
    void aFirstRegistrationComesFromNowhere() {
        Change change = new Change(1, "REGISTERED", WEB, null, "RUNNING", "registered as incarnation 1", null, null);
        assertThat(change.line()).contains("REGISTERED       web-1  - -> RUNNING  registered as incarnation 1");
    }

    @Test
    void aSessionChangeNamesTheSessionAndHasNoTimeUnlessTheRegistrySendsOne() {
        Change change = new Change(3, "SESSION_ADDED", WEB, null, null, null, "s-1", null);
        assertThat(change.line()).isEqualTo("3       -                         SESSION_ADDED    web-1  session s-1");
        Change timed = new Change(3, "SESSION_ADDED", WEB, null, null, null, "s-1", UPDATED.plus(Duration.ofSeconds(1)));
        assertThat(timed.line()).contains("2026-03-01T12:00:01.250Z");
    }

    @Test
    void reconnectionDelaysGrowAndStayShort() {
        assertThat(WatchCommand.delay(1, -1)).isEqualTo(Duration.ofMillis(500));
        assertThat(WatchCommand.delay(2, -1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(WatchCommand.delay(4, -1)).isEqualTo(Duration.ofSeconds(4));
        assertThat(WatchCommand.delay(9, -1)).isEqualTo(Duration.ofSeconds(8));
        assertThat(WatchCommand.delay(64, -1)).isEqualTo(Duration.ofSeconds(8));
        assertThat(WatchCommand.delay(1, 200)).as("the stream's retry: field").isEqualTo(Duration.ofMillis(200));
    }
}
