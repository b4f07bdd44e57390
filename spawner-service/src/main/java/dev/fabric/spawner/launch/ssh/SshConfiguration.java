package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.kubernetes.KubernetesLauncher;
import dev.fabric.spawner.launch.Launcher;
import dev.fabric.spawner.launch.PlacingLauncher;
import dev.fabric.spawner.launch.ProcessLauncher;
import dev.fabric.spawner.spawn.SpawnerConfiguration;
import dev.fabric.spawner.spawn.SpawnerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.context.annotation.Lazy;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The launcher a node uses: its own ({@code process} or {@code kubernetes}) for members without
 * a placement, the {@code ssh} launcher for members placed on a configured host. The root spawner
 * and every member that spawns alike: a member's hosts are inherited from its spawner
 * ({@link SshLauncher#inheritedEnvironment}).
 */
@Configuration(proxyBeanMethods = false)
public class SshConfiguration {

    private static final Logger log = LoggerFactory.getLogger(SshConfiguration.class);

    @Bean
    @Primary
    @Lazy // inside a member, the process launcher's settings are its spawner's, read on first use
    PlacingLauncher launcher(ObjectProvider<ProcessLauncher> process, ObjectProvider<KubernetesLauncher> kubernetes,
                             SshLauncherProperties ssh, SpawnerProperties spawner) {
        // Chosen here, at run time, not by which launcher beans exist: a member's context always has a
        // process launcher (its bean definitions are generated at build time, MemberSpawningConfiguration).
        Launcher local = switch (spawner.launcher().toLowerCase(Locale.ROOT)) {
            case "process" -> process.getIfAvailable();
            case "kubernetes" -> kubernetes.getIfAvailable();
            default -> null;
        };
        if (local == null) {
            throw new IllegalStateException("fabric.spawner.launcher is '" + spawner.launcher() + "': use process or kubernetes");
        }
        SshLauncher remote = new SshLauncher(ssh, () -> Path.of(!ssh.distribution().isBlank() ? ssh.distribution()
                : !spawner.process().jar().isBlank() ? spawner.process().jar() : SpawnerConfiguration.runningJar()));
        if (!ssh.hosts().isEmpty()) {
            ssh.hosts().forEach((name, host) -> log.info("ssh launcher: host {} at {}@{}:{}, host-key-policy {}, known hosts {}",
                    name, host.user(), host.address(), host.port(), host.hostKeyPolicy(), host.knownHosts()));
        }
        return new PlacingLauncher(local, remote);
    }
}
