package dev.fabric.fab.daemon;

import dev.fabric.fab.FabException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IdleTimeoutTest {
    @Test
    void defaultIsThreeHours() {
        assertThat(IdleTimeout.of(Map.of())).isEqualTo(Duration.ofHours(3));
    }

    @Test
    void secondsMinutesHoursAndZero() {
        assertThat(IdleTimeout.of(Map.of("FAB_IDLE_TIMEOUT", "90"))).isEqualTo(Duration.ofSeconds(90));
        assertThat(IdleTimeout.of(Map.of("FAB_IDLE_TIMEOUT", "5s"))).isEqualTo(Duration.ofSeconds(5));
        assertThat(IdleTimeout.of(Map.of("FAB_IDLE_TIMEOUT", "30m"))).isEqualTo(Duration.ofMinutes(30));
        assertThat(IdleTimeout.of(Map.of("FAB_IDLE_TIMEOUT", "2h"))).isEqualTo(Duration.ofHours(2));
        assertThat(IdleTimeout.of(Map.of("FAB_IDLE_TIMEOUT", "0"))).isZero();
    }

    @Test
    void badValuesAreBadArgsNamingTheVariable() {
        for (String bad : new String[] {"-1", "3d", "h", "soon", "1.5h", "+3"}) {
            assertThatThrownBy(() -> IdleTimeout.of(Map.of("FAB_IDLE_TIMEOUT", bad))).as(bad)
                    .isInstanceOfSatisfying(FabException.class, e -> assertThat(e.status().code()).isEqualTo(1))
                    .hasMessageContaining("FAB_IDLE_TIMEOUT=" + bad);
        }
    }
}
