package dev.fabric.spawner.launch.ssh;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.support.SpringApplicationJsonEnvironmentPostProcessor;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A member inherits its spawner's SSH hosts through its environment, and Spring Boot reads them back unchanged. */
class InheritedHostsTest {

    static final SshLauncherProperties.Host HEAD = new SshLauncherProperties.Host("head", 22, "root", Path.of("/k"), Path.of("/kh"),
            HostKeyPolicy.STRICT, "java", "fabric", "", "", "47100-47999", List.of(), false);

    @Test
    void aMemberReadsBackTheHostsItsSpawnerPlacesOn() {
        Map<String, SshLauncherProperties.Host> hosts = new LinkedHashMap<>();
        hosts.put("head", new SshLauncherProperties.Host("head", 22, "root", Path.of("/run/lab/id_ed25519"), Path.of("/run/lab/known_hosts"),
                HostKeyPolicy.STRICT, "/opt/jdk/bin/java", "/tmp/head-fabric", "", "0.0.0.0", "19100-19149", List.of("-Xss512k", "-Dx=it's"), true));
        hosts.put("compute-1", new SshLauncherProperties.Host("compute-1", 2222, "fabric", Path.of("/k"), Path.of("/kh"),
                HostKeyPolicy.ACCEPT_NEW_AND_RECORD, "java", "fabric", "10.0.3.11", "", "47100-47999", List.of(), false));
        SshLauncherProperties settings = new SshLauncherProperties(hosts, "/somewhere/spawner.jar", Duration.ofSeconds(7),
                Duration.ofSeconds(90), Duration.ofSeconds(3), "/opt/jdk-25");

        Map<String, String> environment = new SshLauncher(settings, () -> Path.of("unused")).inheritedEnvironment();

        assertThat(environment).containsOnlyKeys(SshLauncher.INHERITED, SshLauncher.INHERITED_DISTRIBUTION);
        SshLauncherProperties inherited = bindAsAMemberWould(environment);
        assertThat(inherited.hosts()).isEqualTo(hosts);
        assertThat(inherited.connectTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(inherited.commandTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(inherited.livenessInterval()).isEqualTo(Duration.ofSeconds(3));
        // A member on this node stages its spawner's distribution: the jar it runs may be an extracted one.
        assertThat(inherited.distribution()).isEqualTo("/somewhere/spawner.jar");
        // Each node stages the runtime it runs on itself.
        assertThat(inherited.javaRuntime()).isEmpty();
    }

    @Test
    void aDistributionGivenRelativelyIsInheritedAsAnAbsolutePath() {
        SshLauncherProperties settings = new SshLauncherProperties(Map.of("head", HEAD), "target/spawner-service-exec.jar",
                Duration.ofSeconds(10), Duration.ofMinutes(2), Duration.ofSeconds(2), "");

        Map<String, String> environment = new SshLauncher(settings, () -> Path.of("unused")).inheritedEnvironment();

        // A member runs in its own directory: the path must not depend on where it runs.
        assertThat(bindAsAMemberWould(environment).distribution())
                .isEqualTo(Path.of("target/spawner-service-exec.jar").toAbsolutePath().toString());
    }

    @Test
    void withoutADistributionTheMemberStagesTheJarItRunsFrom() {
        SshLauncherProperties settings = new SshLauncherProperties(Map.of("head", HEAD), "", Duration.ofSeconds(10),
                Duration.ofMinutes(2), Duration.ofSeconds(2), "");

        Map<String, String> environment = new SshLauncher(settings, () -> Path.of("unused")).inheritedEnvironment();

        assertThat(environment).containsOnlyKeys(SshLauncher.INHERITED);
        assertThat(bindAsAMemberWould(environment).distribution()).isEmpty();
    }

    @Test
    void withoutHostsNothingIsInherited() {
        SshLauncherProperties none = new SshLauncherProperties(Map.of(), "", Duration.ofSeconds(10), Duration.ofMinutes(2), Duration.ofSeconds(2), "");
        assertThat(new SshLauncher(none, () -> Path.of("unused")).inheritedEnvironment()).isEmpty();
    }

    private static SshLauncherProperties bindAsAMemberWould(Map<String, String> environment) {
        StandardEnvironment member = new StandardEnvironment();
        member.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, Map.<String, Object>copyOf(environment)));
        new SpringApplicationJsonEnvironmentPostProcessor().postProcessEnvironment(member, new SpringApplication());
        return Binder.get(member).bind("fabric.spawner.ssh", SshLauncherProperties.class).get();
    }
}
