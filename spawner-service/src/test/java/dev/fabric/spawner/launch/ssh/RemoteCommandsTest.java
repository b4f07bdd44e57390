package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.MemberJvm;
import dev.fabric.spawner.launch.Resources;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RemoteCommandsTest {

    static final SshLauncherProperties.Host HOST = new SshLauncherProperties.Host("10.0.2.2", 22, "fabric", Path.of("/k"), Path.of("/kh"),
            HostKeyPolicy.STRICT, "/opt/jdk 25/bin/java", "/var/lib/fabric", "", "", "47100-47999", List.of("-Dx=it's"), false);

    @Test
    void theStartCommandCarriesNoPasswordAndReadsItFromStandardInput() {
        String secret = "s3cr3t-one-time-password-of-43-characters-x";
        LaunchSpec spec = new LaunchSpec("queue-1", 2, "queue", Connectivity.DIRECT, Resources.DEFAULT,
                Map.of(MemberEnvironment.SERVICE_ID, "queue-1"), OneTimePassword.of(secret), "head");

        String command = RemoteCommands.start(spec, HOST, "head", HOST.java(), "spawner-service-0123456789abcdef.jar", 47123);

        assertThat(command).doesNotContain(secret).startsWith("sh -c '")
                .contains("IFS= read -r FABRIC_OTP").contains("export FABRIC_OTP\n")
                .contains("export FABRIC_MANAGEMENT_PORT='\\''47123'\\''")
                .contains("export FABRIC_ADVERTISED_HOST='\\''10.0.2.2'\\''")
                .contains("-Dfabric.member.id=queue-1")
                .contains("exec '\\''/opt/jdk 25/bin/java'\\''")
                .contains("< /dev/null >> member.log 2>&1");
    }

    @Test
    void theMemberStartsWithTheProcessLaunchersJvmOptionsAndTheHostsAfterThem() {
        LaunchSpec spec = new LaunchSpec("queue-1", 2, "queue", Connectivity.DIRECT, new Resources("1500m", "512Mi"),
                Map.of(MemberEnvironment.SERVICE_ID, "queue-1"), OneTimePassword.of("s3cr3t-one-time-password-of-43-characters-x"), "head");

        String command = RemoteCommands.start(spec, HOST, "head", HOST.java(), "spawner-service-0123456789abcdef.jar", 47123);

        List<String> options = MemberJvm.options(spec.resources());
        assertThat(options).contains("-Xmx384m", "-XX:ActiveProcessorCount=2", "-XX:+UseCompactObjectHeaders", "-XX:+UseSerialGC");
        String quoted = String.join(" ", options.stream().map(option -> "'\\''" + option + "'\\''").toList());
        assertThat(command).contains(quoted + " '\\''-Dserver.address=");
        assertThat(command.indexOf("-Dx=it")).isGreaterThan(command.indexOf("-XX:TrimNativeHeapInterval"));
    }

    @Test
    void quotingKeepsAnyTextOneWord() {
        assertThat(RemoteCommands.quote("it's $(rm -rf /) `x`")).isEqualTo("'it'\\''s $(rm -rf /) `x`'");
    }

    @Test
    void javaVersionsAreReadFromTheirOutput() {
        assertThat(RemoteCommands.javaFeature("openjdk version \"25.0.1\" 2025-10-21 LTS")).isEqualTo(25);
        assertThat(RemoteCommands.javaFeature("java version \"1.8.0_402\"")).isEqualTo(8);
        assertThat(RemoteCommands.javaFeature("sh: 1: /opt/jdk/bin/java: not found")).isEqualTo(-1);
    }

    @Test
    void signalsAndExitStatusesBecomeOutcomes() {
        assertThat(RemoteCommands.signalNumber("KILL")).isEqualTo(9);
        assertThat(RemoteCommands.signalNumber("SIGTERM")).isEqualTo(15);
        assertThat(SshMember.outcomeOf(143, "head")).isEqualTo(new LaunchOutcome.Killed(15, "exit status 143 on host head"));
        assertThat(SshMember.outcomeOf(80, "head")).isEqualTo(new LaunchOutcome.Exited(80));
    }
}
