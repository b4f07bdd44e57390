package dev.fabric.spawner.role.bridge;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BridgeSettingsTest {

    @Test
    void anEmptyConfigurationTakesTheDocumentedDefaults() {
        BridgeSettings settings = BridgeSettings.of(Map.of());
        assertThat(settings).isEqualTo(new BridgeSettings(0, 64, 256, 8L * 1024 * 1024, Duration.ofSeconds(60), null, null,
                Duration.ofMinutes(10)));
    }

    @Test
    void everySettingIsRead() {
        BridgeSettings settings = BridgeSettings.of(Map.of("port", "8480", "max-channels", "2", "max-circuits", "3",
                "max-circuit-bytes", "64KB", "idle-timeout", "5s", "address", "0.0.0.0", "host", "gateway.site",
                "max-circuit-duration", "2m"));
        assertThat(settings).isEqualTo(new BridgeSettings(8480, 2, 3, 64 * 1024, Duration.ofSeconds(5), "0.0.0.0", "gateway.site",
                Duration.ofMinutes(2)));
    }

    @Test
    void aBadSettingIsNamedWithWhatItMustBe() {
        assertThatThrownBy(() -> BridgeSettings.of(Map.of("max-channels", "0")))
                .hasMessage("max-channels must be a whole number from 1 to 100000, not '0'");
        assertThatThrownBy(() -> BridgeSettings.of(Map.of("port", "http")))
                .hasMessage("port must be a whole number from 0 to 65535, not 'http'");
        assertThatThrownBy(() -> BridgeSettings.of(Map.of("max-circuit-bytes", "lots")))
                .hasMessageStartingWith("max-circuit-bytes must be a size from 1KB to 256MB");
        assertThatThrownBy(() -> BridgeSettings.of(Map.of("idle-timeout", "0s")))
                .hasMessageStartingWith("idle-timeout must be a duration from 1s to 1h");
        assertThatThrownBy(() -> BridgeSettings.of(Map.of("max-circuit-duration", "2h")))
                .hasMessageStartingWith("max-circuit-duration must be a duration from 1s to 1h");
        assertThatThrownBy(() -> BridgeSettings.of(Map.of("host", "a b")))
                .hasMessage("host must be a host name or an address, not 'a b'");
    }
}
