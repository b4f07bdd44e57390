package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.MemberJvm;
import dev.fabric.spawner.launch.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
                .contains("export FABRIC_MANAGEMENT_PORT=$port\n")
                .contains("export FABRIC_ADVERTISED_HOST='\\''10.0.2.2'\\''")
                .contains("-Dfabric.member.id=queue-1")
                .contains("exec '\\''/opt/jdk 25/bin/java'\\''")
                .contains("< /dev/null >> member.log 2>&1");
    }

    /** The member runs the staged jar, self-contained: its spawner's distribution is a path on another node. */
    @Test
    void aMemberOnAHostIsNotGivenItsSpawnersDistribution() {
        LaunchSpec spec = new LaunchSpec("queue-1", 2, "queue", Connectivity.DIRECT, Resources.DEFAULT,
                Map.of(MemberEnvironment.SERVICE_ID, "queue-1", SshLauncher.INHERITED_DISTRIBUTION, "/opt/fabric/spawner-service.jar"),
                OneTimePassword.of("s3cr3t-one-time-password-of-43-characters-x"), "head");

        String command = RemoteCommands.start(spec, HOST, "head", HOST.java(), "spawner-service-0123456789abcdef.jar", 47123);

        assertThat(command).contains("export FABRIC_SERVICE_ID=").doesNotContain(SshLauncher.INHERITED_DISTRIBUTION)
                .doesNotContain("/opt/fabric/spawner-service.jar");
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

    /**
     * A stale incarnation of the member (it runs until its first refused heartbeat) or another member
     * on the host may listen on the port drawn from member-ports; a JVM started on it exits with
     * status 1, a bootstrap failed for good. The start command, run here as sshd runs it, takes the
     * next port no socket listens on and tells it.
     */
    @Test
    void theStartCommandPassesOverAPortTheHostListensOnAlready(@TempDir Path dir) throws Exception {
        int taken;
        int free;
        try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getByName("0.0.0.0"))) {
            taken = held.getLocalPort();
            try (ServerSocket probe = new ServerSocket(taken + 1)) {
                free = probe.getLocalPort();
            }
            // A "java" that prints the port the member would listen on into its log.
            Path java = dir.resolve("java");
            Files.writeString(java, "#!/bin/sh\necho \"management port $FABRIC_MANAGEMENT_PORT\"\n");
            Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwx------"));
            SshLauncherProperties.Host host = new SshLauncherProperties.Host("127.0.0.1", 22, "fabric", Path.of("/k"), Path.of("/kh"),
                    HostKeyPolicy.STRICT, java.toString(), dir.resolve("fabric").toString(), "", "", taken + "-" + free, List.of(), false);
            LaunchSpec spec = new LaunchSpec("queue-1", 3, "queue", Connectivity.DIRECT, Resources.DEFAULT,
                    Map.of(MemberEnvironment.SERVICE_ID, "queue-1"), OneTimePassword.of("s3cr3t-one-time-password-of-43-characters-x"), "head");

            Process shell = new ProcessBuilder("sh", "-c", RemoteCommands.start(spec, host, "head", java.toString(), "spawner.jar", taken))
                    .redirectErrorStream(true).start();
            shell.getOutputStream().write("s3cr3t-one-time-password-of-43-characters-x\n".getBytes(StandardCharsets.UTF_8));
            shell.getOutputStream().close();
            String output = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(shell.waitFor()).as(output).isZero();

            assertThat(Files.readString(dir.resolve("fabric/members/queue-1/member.log"))).contains("management port " + free);
            assertThat(output.lines().findFirst().orElseThrow()).as(output).startsWith(RemoteCommands.STARTED + " ")
                    .contains(" " + free + " ");
        }
    }

    @Test
    void aStartCommandFindingEveryPortTakenSaysSo() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getByName("0.0.0.0"))) {
            int taken = held.getLocalPort();
            Process shell = new ProcessBuilder("sh", "-c", RemoteCommands.freePort(taken, taken, taken) + "echo \"$port\"")
                    .redirectErrorStream(true).start();
            String output = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(shell.waitFor()).as(output).isEqualTo(1);
            assertThat(output).contains("every port of member-ports " + taken + "-" + taken + " is taken on this host");
        }
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

    /**
     * Whoever looks for a member's processes by {@code -Dfabric.member.id=ID} (an operator's pgrep, the lab tests)
     * must find its JVM only, never a check of it that runs on its host at that moment.
     */
    @Test
    void theLaunchersChecksAndStopsCarryNoMembersIdOnTheirCommandLines() {
        for (String command : List.of(RemoteCommands.probe(42, "queue-1"), RemoteCommands.signal(42, "queue-1", "TERM"),
                RemoteCommands.stopAndConfirm(42, "queue-1", 10, 10))) {
            assertThat(command).doesNotContain("-Dfabric.member.id=").contains("queue-1");
        }
    }
}
