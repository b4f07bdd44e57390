package dev.fabric.spawner.spawn;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.spawner.launch.ProcessLauncher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;
import org.springframework.context.annotation.Profile;
import org.springframework.web.client.RestClient;

import java.time.Clock;
import java.time.Duration;

/**
 * Every member spawns (docs/spawner.md): inside a member the spawner's own machinery
 * ({@link SpawnService}, {@link Members}, {@link Supervisor}, the bootstrapper) runs on the parts
 * the member was given at its bootstrap: the fabric keys it was sealed, its registry, its id and
 * management URL. Those arrive after the member starts, so the parts are made on first use, which
 * {@link SpawnGate} holds back until the member is RUNNING.
 *
 * <p>Its launcher is the process launcher unless {@code fabric.spawner.launcher} says otherwise; its
 * settings ({@code fabric.spawner.*}: roles, timeouts, the process launcher's JVM options) are
 * inherited from its spawner through its environment ({@link SpawnService}).
 */
@Configuration(proxyBeanMethods = false)
@Profile("member")
public class MemberSpawningConfiguration {

    @Bean
    @Lazy
    FabricKeys spawningKeys(SpawningNode node) {
        return node.keys().orElseThrow(() -> new IllegalStateException("member " + node.id() + " has no fabric keys yet"));
    }

    @Bean
    @Lazy
    SpawnerIdentity spawnerIdentity(SpawningNode node) {
        return new SpawnerIdentity(node.id(), node.managementUrl());
    }

    @Bean
    @Lazy
    RegistryClient registryClient(SpawningNode node) {
        // The member's own client: a member behind a bridge lists and records its members through it, as it heartbeats.
        return node.registry();
    }

    @Bean
    OneTimePasswords oneTimePasswords() {
        return new OneTimePasswords(Clock.systemUTC());
    }

    /** Signed calls to its children's management ports. */
    @Bean
    @Lazy
    RestClient memberClient(FabricKeys keys) {
        return FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(30)).build();
    }

    /**
     * Always defined, unlike the spawner's: a member's bean definitions are generated at build time
     * (Spring AOT, docs/operations.md "Start-up and memory"), where a condition on
     * {@code fabric.spawner.launcher} would be frozen. The launcher in use is chosen at run time
     * ({@code SshConfiguration}); lazy, so a member that uses no process launcher never makes one.
     */
    @Bean
    @Lazy
    ProcessLauncher processLauncher(SpawnerProperties properties) {
        return SpawnerConfiguration.processLauncherOf(properties);
    }
}
