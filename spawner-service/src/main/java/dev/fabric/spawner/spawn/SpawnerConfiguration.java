package dev.fabric.spawner.spawn;

import dev.fabric.core.signature.ReceiverAuthorities;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.spring.FabricSecurityAutoConfiguration.FabricKeysHolder;
import dev.fabric.core.spring.FabricSecurityProperties;
import dev.fabric.spawner.kubernetes.RegistryLocator;
import dev.fabric.spawner.launch.ProcessLauncher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.cloud.CloudPlatform;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.core.env.Environment;
import org.springframework.web.client.RestClient;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/** The spawner's parts: its keys, the registry, one-time passwords, the launcher, the signed client for members. */
@Configuration(proxyBeanMethods = false)
@Profile("!member")
public class SpawnerConfiguration {

    private static final Logger log = LoggerFactory.getLogger(SpawnerConfiguration.class);

    /**
     * The fabric keys: from {@code fabric.security.keys-path} (a directory or a mounted Secret), else
     * generated on the first start under the data directory and kept there (0600).
     */
    @Bean
    FabricKeys fabricKeys(FabricSecurityProperties security, SpawnerProperties properties) {
        Path path = security.keysPath() != null ? security.keysPath() : properties.dataDir().resolve("keys");
        FabricKeys keys = Files.exists(path.resolve("..data")) ? FabricKeys.loadSecretMount(path) : FabricKeys.loadOrGenerate(path);
        log.info("fabric keys from {} (key id {})", path, keys.keyId());
        return keys;
    }

    /** Replaces the security auto-configuration's own loading: the keys above are the only ones. */
    @Bean
    FabricKeysHolder fabricKeysHolder(FabricKeys keys) {
        return new FabricKeysHolder(keys);
    }

    @Bean
    SpawnerIdentity spawnerIdentity(SpawnerProperties properties,
                                    @org.springframework.beans.factory.annotation.Value("${server.port:8472}") int port,
                                    ReceiverAuthorities authorities) {
        java.net.URI url = java.net.URI.create(properties.url().isBlank() ? "http://127.0.0.1:" + port : properties.url());
        // Members and clients sign for the advertised URL, whose name (or forwarded port) this process may not discover.
        authorities.add(url.getAuthority());
        return SpawnerIdentity.load(properties.id(), properties.dataDir(), url);
    }

    @Bean
    RegistryClient registryClient(SpawnerProperties properties, FabricKeys keys, ObjectProvider<RegistryLocator> locator,
                                  Environment environment) {
        return new RegistryClient(registryUrl(properties, locator, environment), keys, Duration.ofSeconds(10));
    }

    /**
     * {@code fabric.spawner.registry-url} when set; in a Kubernetes cluster, the registry Service
     * through discovery; elsewhere the laptop's registry.
     */
    static URI registryUrl(SpawnerProperties properties, ObjectProvider<RegistryLocator> locator, Environment environment) {
        if (!properties.registryUrl().isBlank()) {
            return URI.create(properties.registryUrl());
        }
        RegistryLocator found = locator.getIfAvailable();
        if (found != null && CloudPlatform.KUBERNETES.isActive(environment)) {
            URI url = found.registryUrl();
            log.info("registry found through Kubernetes discovery at {}", url);
            return url;
        }
        return URI.create("http://127.0.0.1:8470");
    }

    @Bean
    OneTimePasswords oneTimePasswords() {
        return new OneTimePasswords(Clock.systemUTC());
    }

    /** Signed calls to members' management ports. */
    @Bean
    RestClient memberClient(FabricKeys keys) {
        return FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(30)).build();
    }

    @Bean
    @ConditionalOnProperty(name = "fabric.spawner.launcher", havingValue = "process", matchIfMissing = true)
    ProcessLauncher processLauncher(SpawnerProperties properties) {
        SpawnerProperties.Process process = properties.process();
        String java = process.java().isBlank()
                ? ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString())
                : process.java();
        String jar = process.jar().isBlank() ? runningJar() : process.jar();
        return new ProcessLauncher(properties.dataDir().resolve("members"), java, jar, process.jvmOptions());
    }

    /** The jar this spawner runs from: members run the same one. */
    public static String runningJar() {
        String command = System.getProperty("sun.java.command", "");
        String first = command.split(" ", 2)[0];
        if (first.endsWith(".jar")) {
            return Path.of(first).toAbsolutePath().toString();
        }
        throw new IllegalStateException("the spawner does not run from a jar (" + first + "); set fabric.spawner.process.jar "
                + "to spawner-service-exec.jar");
    }
}
