package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.descriptor.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sidecar's settings from its environment: the documented defaults, and values that cannot work refused at start saying why. */
class SidecarSettingsTest {

    @Test
    void defaults() {
        SidecarSettings settings = SidecarSettings.fromEnvironment(Map.of("PATH", "/usr/bin", "HOME", "/run/escrow"));

        assertThat(settings.socketPath()).isEqualTo(Path.of("/run/escrow/escrow.sock"));
        assertThat(settings.nrTags()).isEqualTo(32);
        assertThat(settings.allowedUids()).isEmpty();
        assertThat(settings.allowedGids()).isEmpty();
        assertThat(settings.force()).isTrue();
        assertThat(settings.verbose()).isFalse();
        assertThat(settings.shutdownGrace()).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.maxSlots()).isEqualTo(131_072);
        assertThat(settings.maxPayloadBytes()).isEqualTo(16L << 20);
        assertThat(settings.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.httpPort()).isEqualTo(8471);
        assertThat(settings.peers().uids()).as("own uid by default").containsExactly(Posix.getuid());
    }

    @Test
    void theChartsVariablesReachTheEngine() {
        SidecarSettings settings = SidecarSettings.fromEnvironment(Map.ofEntries(
                Map.entry("FABRIC_ESCROW_SOCKETPATH", "/var/run/app-escrow/e.sock"), Map.entry("FABRIC_ESCROW_NRTAGS", "64"),
                Map.entry("FABRIC_ESCROW_ALLOWEDUIDS", "10001,1000000"), Map.entry("FABRIC_ESCROW_ALLOWEDGIDS", "20000"),
                Map.entry("FABRIC_ESCROW_SHUTDOWNGRACE", "1s"), Map.entry("FABRIC_ESCROW_VERBOSE", "true"),
                Map.entry("FABRIC_ESCROW_FORCE", "FALSE"), Map.entry("FABRIC_ESCROW_MAXSLOTS", "100"),
                Map.entry("FABRIC_ESCROW_MAXPAYLOADBYTES", "4096"), Map.entry("FABRIC_ESCROW_IDLETIMEOUT", "2m"),
                Map.entry("SERVER_PORT", "9471")));

        assertThat(settings.peers().uids()).isEqualTo(Set.of(10001, 1000000));
        assertThat(settings.peers().gids()).isEqualTo(Set.of(20000));
        assertThat(settings.httpPort()).isEqualTo(9471);
        assertThat(settings.verbose()).isTrue();
        var config = settings.toConfig(tag -> { });
        assertThat(config.path()).isEqualTo(Path.of("/var/run/app-escrow/e.sock"));
        assertThat(config.nrTags()).isEqualTo(64);
        assertThat(config.force()).isFalse();
        assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.maxSlots()).isEqualTo(100);
        assertThat(config.maxPayloadBytes()).isEqualTo(4096);
        assertThat(config.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.trace()).isNotNull();
    }

    /** As the Spring Boot sidecar read them: a plain number is milliseconds, a unit may follow, ISO-8601 works. */
    @ParameterizedTest
    @CsvSource({"500ms, PT0.5S", "5s, PT5S", "2m, PT2M", "1h, PT1H", "2500, PT2.5S", "PT5S, PT5S", "0, PT0S", "3d, PT72H"})
    void durationsAreReadAsBefore(String text, String expected) {
        assertThat(SidecarSettings.fromEnvironment(Map.of("FABRIC_ESCROW_IDLETIMEOUT", text)).idleTimeout())
                .isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "FABRIC_ESCROW_NRTAGS|0|FABRIC_ESCROW_NRTAGS=0: must be between 1 and 32768 (tags travel as int16); the default is 32",
            "FABRIC_ESCROW_NRTAGS|40000|must be between 1 and 32768",
            "FABRIC_ESCROW_NRTAGS|many|must be between 1 and 32768",
            "FABRIC_ESCROW_ALLOWEDUIDS|-1|FABRIC_ESCROW_ALLOWEDUIDS=-1: must list numeric ids, 0 or more",
            "FABRIC_ESCROW_ALLOWEDUIDS|10001,abc|must list numeric ids",
            "FABRIC_ESCROW_MAXSLOTS|0|FABRIC_ESCROW_MAXSLOTS=0: must be at least 1",
            "FABRIC_ESCROW_MAXPAYLOADBYTES|-5|must be a number of bytes, 0 or more",
            "FABRIC_ESCROW_SHUTDOWNGRACE|soon|FABRIC_ESCROW_SHUTDOWNGRACE=soon: must be a duration",
            "FABRIC_ESCROW_IDLETIMEOUT|-PT5S|must be a duration 0 or more",
            "FABRIC_ESCROW_VERBOSE|yes|FABRIC_ESCROW_VERBOSE=yes: must be true or false",
            "SERVER_PORT|70000|SERVER_PORT=70000: must be a TCP port, 0 to 65535",
            "FABRIC_ESCROW_SOCKETPATH|/escrow.sock|must name a socket file in a directory of its own",
            "FABRIC_ESCROW_NRTAG|8|unknown escrow sidecar setting FABRIC_ESCROW_NRTAG; the settings are FABRIC_ESCROW_ALLOWEDGIDS"})
    void valuesThatCannotWorkAreRefusedSayingWhichAndWhy(String name, String value, String message) {
        assertThatThrownBy(() -> SidecarSettings.fromEnvironment(Map.of(name, value)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void aSocketPathLongerThanTheKernelTakesIsRefused() {
        String path = "/run/" + "x".repeat(110) + "/e.sock";
        assertThatThrownBy(() -> SidecarSettings.fromEnvironment(Map.of("FABRIC_ESCROW_SOCKETPATH", path)))
                .hasMessageContaining("a UNIX socket path has at most 107");
    }
}
