package dev.fabric.spawner.role.agent;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** The agent's settings as the pilot manager sends them, their defaults and their errors. */
class AgentSettingsTest {

    private static final Path DATA = Path.of("/var/fabric/agent-1/data");

    private static Map<String, String> config(String... more) {
        Map<String, String> config = new HashMap<>(Map.of("queue", "queue-1", "pubsub", "pubsub-1", "pilot", "pilot-7"));
        for (int i = 0; i < more.length; i += 2) {
            config.put(more[i], more[i + 1]);
        }
        return config;
    }

    @Test
    void theDefaultsServeOnePilotWithOneCore() {
        AgentSettings settings = AgentSettings.of(config(), DATA);

        assertThat(settings.cores()).isEqualTo(1);
        assertThat(settings.topic()).isEqualTo("tasks.pilot-7");
        assertThat(settings.control()).isEqualTo("control.pilot-7");
        assertThat(settings.outputLimit()).isEqualTo(64 * 1024);
        assertThat(settings.rerunPolicy()).isEqualTo(AgentSettings.RerunPolicy.RERUN);
        assertThat(settings.sandbox()).isEqualTo(DATA.resolve("tasks"));
        assertThat(settings.visibility()).isEqualTo(Duration.ofSeconds(60));
        assertThat(settings.sandboxRetention()).isEqualTo(Duration.ofHours(24));
        assertThat(settings.prefetch()).isEqualTo(2);
        assertThat(settings.prefetchHorizon()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void everySettingIsRead() {
        AgentSettings settings = AgentSettings.of(config("cores", "4", "topic", "events.x", "output-limit", "1KB", "rerun-policy", "fail",
                "sandbox", "/scratch/tasks", "visibility", "1h", "sandbox-retention", "0s", "prefetch", "8",
                "prefetch-horizon", "250ms"), DATA);

        assertThat(settings.cores()).isEqualTo(4);
        assertThat(settings.topic()).isEqualTo("events.x");
        assertThat(settings.outputLimit()).isEqualTo(1024);
        assertThat(settings.rerunPolicy()).isEqualTo(AgentSettings.RerunPolicy.FAIL);
        assertThat(settings.sandbox()).isEqualTo(Path.of("/scratch/tasks"));
        assertThat(settings.visibility()).isEqualTo(Duration.ofHours(1));
        assertThat(settings.sandboxRetention()).isZero();
        assertThat(settings.prefetch()).isEqualTo(8);
        assertThat(settings.prefetchHorizon()).isEqualTo(Duration.ofMillis(250));
        assertThat(AgentSettings.of(config("prefetch-horizon", "0"), DATA).prefetchHorizon()).isZero();
    }

    @Test
    void aRelativeSandboxLiesInTheDataDirectory() {
        assertThat(AgentSettings.of(config("sandbox", "work"), DATA).sandbox()).isEqualTo(DATA.resolve("work"));
    }

    @Test
    void theQueuePubsubAndPilotMustBeNamed() {
        for (String key : new String[] {"queue", "pubsub", "pilot"}) {
            Map<String, String> config = config();
            config.remove(key);
            assertThatIllegalArgumentException().isThrownBy(() -> AgentSettings.of(config, DATA))
                    .withMessageContaining("needs the setting " + key).withMessageContaining("--config " + key + "=");
        }
    }

    @Test
    void badValuesAreRefusedNamingTheSetting() {
        String[][] bad = {{"cores", "0"}, {"cores", "many"}, {"output-limit", "2MB"}, {"output-limit", "lots"},
                {"rerun-policy", "retry"}, {"visibility", "1s"}, {"sandbox-retention", "-1s"}, {"sandbox-retention", "forever"}, {"topic", "Has Spaces"}, {"queue", "../x"},
                {"prefetch", "0"}, {"prefetch", "65"}, {"prefetch-horizon", "-1ms"}, {"prefetch-horizon", "1h"},
                {"prefetch-horizon", "soon"}};
        for (String[] setting : bad) {
            assertThatIllegalArgumentException().as(setting[0] + "=" + setting[1])
                    .isThrownBy(() -> AgentSettings.of(config(setting[0], setting[1]), DATA)).withMessageContaining(setting[0]);
        }
    }
}
