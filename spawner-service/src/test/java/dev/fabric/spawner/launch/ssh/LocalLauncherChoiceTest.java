package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.kubernetes.KubernetesLauncher;
import dev.fabric.spawner.launch.PlacingLauncher;
import dev.fabric.spawner.launch.ProcessLauncher;
import dev.fabric.spawner.spawn.SpawnerProperties;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A node's own launcher is the one {@code fabric.spawner.launcher} names, chosen at run time: a
 * member's context always holds a process launcher (its bean definitions are generated at build
 * time by Spring AOT, where a condition on the setting would be frozen), so which launcher beans
 * exist must not decide.
 */
class LocalLauncherChoiceTest {

    static final ProcessLauncher PROCESS = new ProcessLauncher(Path.of("unused"), "java", "unused.jar", List.of());

    @Test
    void aNodeSetToKubernetesDoesNotFallBackOnTheProcessLauncherItHolds() {
        assertThatThrownBy(() -> launcher("kubernetes"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("fabric.spawner.launcher is 'kubernetes'");
    }

    @Test
    void anUnknownLauncherIsRefusedThoughAProcessLauncherExists() {
        assertThatThrownBy(() -> launcher("ssh"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("use process or kubernetes");
    }

    @Test
    void aNodeSetToProcessStartsItsMembersAsProcesses() {
        assertThat(launcher("process").name()).isEqualTo("process");
        assertThat(launcher("Process").name()).as("the setting's case, as the spawner's condition reads it").isEqualTo("process");
    }


    private static PlacingLauncher launcher(String setting) {
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("processLauncher", PROCESS));
        ObjectProvider<ProcessLauncher> process = beans.getBeanProvider(ProcessLauncher.class);
        ObjectProvider<KubernetesLauncher> kubernetes = beans.getBeanProvider(KubernetesLauncher.class);
        SshLauncherProperties ssh = new SshLauncherProperties(Map.of(), "unused.jar", Duration.ofSeconds(10), Duration.ofMinutes(2),
                Duration.ofSeconds(2), "");
        SpawnerProperties spawner = new SpawnerProperties("", Path.of("unused"), "", "", setting, List.of("queue"), Duration.ofSeconds(60),
                Duration.ofSeconds(60), Duration.ofSeconds(10), 5, Duration.ofMinutes(5), Duration.ofSeconds(2), false,
                new SpawnerProperties.Process("", "", List.of(), 0));
        return new SshConfiguration().launcher(process, kubernetes, ssh, spawner);
    }
}
