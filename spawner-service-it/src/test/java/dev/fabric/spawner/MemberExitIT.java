package dev.fabric.spawner;

import dev.fabric.spawner.contract.BootstrapExit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A member that cannot bootstrap exits with the documented status its spawner reads
 * (docs/spawner.md, "Exit statuses"): the real jar, started as a member by hand.
 */
class MemberExitIT {

    @TempDir
    Path dir;

    @Test
    void aMemberWithoutItsBootstrapEnvironmentExits80() throws Exception {
        Result result = runMember(Map.of());
        assertThat(result.status()).as(result.output()).isEqualTo(BootstrapExit.BAD_ENVIRONMENT.code());
        assertThat(result.output()).contains("FABRIC_SERVICE_ID is not set");
    }

    @Test
    void aMemberThatCannotReachItsSpawnerExits81() throws Exception {
        Map<String, String> env = environment("DIRECT", "http://127.0.0.1:" + closedPort());
        Result result = runMember(env, "--fabric.member.spawner-timeout=2s");
        assertThat(result.status()).as(result.output()).isEqualTo(BootstrapExit.SPAWNER_UNREACHABLE.code());
        assertThat(result.output()).contains("could not reach the spawner").doesNotContain(env.get("FABRIC_OTP"));
    }

    @Test
    void aMemberWhoseBridgeAndSpawnerAreBothUnreachableExits81NamingBoth() throws Exception {
        Map<String, String> env = environment("FIREWALL_TO_SERVICE", "http://127.0.0.1:" + closedPort());
        String via = "http://127.0.0.1:" + closedPort();
        env.put("FABRIC_VIA", via);
        Result result = runMember(env, "--fabric.member.spawner-timeout=2s");
        assertThat(result.status()).as(result.output()).isEqualTo(BootstrapExit.SPAWNER_UNREACHABLE.code());
        assertThat(result.output()).contains("could not reach the spawner").contains("through the bridge at " + via + " nor directly")
                .doesNotContain(env.get("FABRIC_OTP"));
    }

    @Test
    void aMode3MemberNobodyDialsExits84() throws Exception {
        Result result = runMember(environment("FIREWALL_FROM_SERVICE", "http://127.0.0.1:" + closedPort()),
                "--fabric.member.configure-timeout=2s");
        assertThat(result.status()).as(result.output()).isEqualTo(BootstrapExit.NOT_CONFIGURED.code());
        assertThat(result.output()).contains("the spawner did not dial in");
    }

    @Test
    void aMode4MemberThatCannotMeetItsSpawnerAtTheRegistryExits81WithTheReason() throws Exception {
        Map<String, String> env = environment("SPLICED", "http://127.0.0.1:" + closedPort());
        env.put("FABRIC_RENDEZVOUS", "rv-0123456789abcdef");
        Result result = runMember(env, "--fabric.member.spawner-timeout=2s");
        assertThat(result.status()).as(result.output()).isEqualTo(BootstrapExit.SPAWNER_UNREACHABLE.code());
        assertThat(result.output()).contains("mode 4: could not splice a connection with the spawner (broker-unreachable)")
                .doesNotContain(env.get("FABRIC_OTP"));
    }

    @Test
    void aMode4MemberWithoutItsRendezvousExitsWithBadEnvironment() throws Exception {
        Result result = runMember(environment("SPLICED", "http://127.0.0.1:" + closedPort()));
        assertThat(result.status()).as(result.output()).isEqualTo(BootstrapExit.BAD_ENVIRONMENT.code());
        assertThat(result.output()).contains("FABRIC_RENDEZVOUS is not set to a rendezvous id");
    }

    private Map<String, String> environment(String connectivity, String spawnerUrl) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("FABRIC_SERVICE_ID", "queue-by-hand");
        env.put("FABRIC_INCARNATION", "1");
        env.put("FABRIC_ROLE", "queue");
        env.put("FABRIC_SPAWNER_URL", spawnerUrl);
        env.put("FABRIC_SPAWNER_ID", "spawner-test");
        env.put("FABRIC_REGISTRY_URL", "http://127.0.0.1:" + closedPort());
        env.put("FABRIC_CONNECTIVITY", connectivity);
        env.put("FABRIC_OTP", "a-password-that-must-never-be-printed");
        env.put("FABRIC_MANAGEMENT_PORT", Integer.toString(closedPort()));
        env.put("FABRIC_DATA_DIR", dir.resolve("data").toString());
        return env;
    }

    private record Result(int status, String output) {}

    private Result runMember(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m",
                "-XX:TieredStopAtLevel=1", "-jar", FabricUnderTest.SPAWNER_JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("member.log").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("FABRIC_"));
        builder.environment().put("SPRING_PROFILES_ACTIVE", "member");
        builder.environment().putAll(env);
        Process process = builder.start();
        assertThat(process.waitFor(90, TimeUnit.SECONDS)).as("the member exited").isTrue();
        return new Result(process.exitValue(), FabricUnderTest.log(dir.resolve("member.log")));
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
