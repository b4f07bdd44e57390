package dev.fabric.cli;

import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.ExecResult;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.Reach;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A member behind a firewall to the service (mode 2) stays reachable through a bridge
 * (docs/connectivity.md), in the network lab (docs/lab.md): the registry on {@code public}, a
 * spawner and a bridge on {@code gateway}, a spawner on {@code head} whose queue keeps its channel
 * open to gateway's bridge. Once head drops every new connection to its service ports, the CLI on
 * {@code desktop} (which has no route to head at all) still puts and takes the queue's messages,
 * through the bridge, and the queue's heartbeats still reach the registry.
 */
@RequiresNetworkLab
class BridgeAcrossTheLabIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path REGISTRY_JAR = ROOT.resolve("registry-service/target/registry-service-exec.jar");
    private static final Path SPAWNER_JAR = ROOT.resolve("spawner-service/target/spawner-service-exec.jar");
    private static final Path CLI_JAR = ROOT.resolve("fabric-cli/target/fabric-cli.jar");
    private static final int REGISTRY_PORT = 8470;
    private static final int SPAWNER_PORT = 8472;
    private static final int RELAY_PORT = 8480;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;

    private static String registryUrl;
    private static String gatewaySpawner;
    private static String headSpawner;

    @BeforeAll
    static void fabric(NetworkLab lab) throws Exception {
        for (Path jar : List.of(REGISTRY_JAR, SPAWNER_JAR, CLI_JAR)) {
            assumeTrue(Files.exists(jar), jar + " is not built: run this test through the whole build (./fabric test)");
        }
        Path keys = dir.resolve("keys");
        ExecResult init = lab.exec(Host.DESKTOP, cli(List.of("--keys", keys.toString(), "keys", "init", "--dir", keys.toString())));
        assertThat(init.ok()).as(init.stderr()).isTrue();

        registryUrl = "http://" + lab.address(Host.PUBLIC) + ":" + REGISTRY_PORT;
        ProcessBuilder registry = lab.processBuilder(Host.PUBLIC, NetworkLab.javaCommand("-Xmx384m", "--enable-native-access=ALL-UNNAMED",
                "-jar", REGISTRY_JAR.toString(), "--server.address=" + lab.address(Host.PUBLIC)));
        registry.environment().put("FABRIC_KEYS_PATH", keys.toString());
        registry.environment().put("FABRIC_DATA_DIR", dir.resolve("registry").toString());
        registry.environment().put("FABRIC_REGISTRY_PORT", Integer.toString(REGISTRY_PORT));
        lab.startProcess(registry, dir.resolve("registry.log"));

        gatewaySpawner = "http://" + lab.address(Host.GATEWAY, Host.DESKTOP) + ":" + SPAWNER_PORT;
        startSpawner(lab, Host.GATEWAY, gatewaySpawner, keys, "gateway");
        headSpawner = "http://" + lab.address(Host.HEAD, Host.GATEWAY) + ":" + SPAWNER_PORT;
        startSpawner(lab, Host.HEAD, headSpawner, keys, "head");

        awaitReady(lab, Host.PUBLIC, registryUrl, "registry.log");
        awaitReady(lab, Host.GATEWAY, gatewaySpawner, "spawner-gateway.log");
        awaitReady(lab, Host.HEAD, headSpawner, "spawner-head.log");
    }

    @Test
    void aQueueOnHeadBehindModeTwoIsManagedFromDesktopThroughGatewaysBridge(NetworkLab lab) throws Exception {
        // The bridge on gateway listens on every address of gateway; each host names gateway at the address it reaches it on.
        String bridge = lastLine(ok(lab, Host.GATEWAY, "spawn", "bridge", "--spawner", gatewaySpawner, "--config", "port=" + RELAY_PORT,
                "--config", "address=0.0.0.0", "--config", "host=gateway", "--wait", "--timeout", "4m"));
        String queue = lastLine(ok(lab, Host.GATEWAY, "spawn", "queue", "--spawner", headSpawner,
                "--config", "via=http://gateway:" + RELAY_PORT, "--wait", "--timeout", "4m"));
        assertThat(service(lab, queue).path("instance").path("metadata").path("via").asString()).isEqualTo(bridge);

        // Mode 2 on head: new connections to its service ports are dropped. Its channel, opened outward, stays.
        lab.setMode(Host.HEAD, Mode.FIREWALL_TO_SERVICE);
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SPAWNER_PORT)).as("head takes no new connection").isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.DESKTOP, Host.HEAD, SPAWNER_PORT)).isEqualTo(Reach.UNREACHABLE);

        String id = ok(lab, Host.DESKTOP, "queue", "put", queue, "from the desktop").strip();
        List<String> taken = ok(lab, Host.DESKTOP, "queue", "take", queue).lines().toList();
        assertThat(taken.get(1)).startsWith(id).endsWith("from the desktop");

        // Its heartbeats keep reaching the registry (through the bridge).
        Instant beat = Instant.parse(service(lab, queue).path("instance").path("lastHeartbeatAt").asString());
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        Instant later = beat;
        while (!later.isAfter(beat) && Instant.now().isBefore(deadline)) {
            Thread.sleep(500);
            later = Instant.parse(service(lab, queue).path("instance").path("lastHeartbeatAt").asString());
        }
        assertThat(later).isAfter(beat);
        assertThat(service(lab, queue).path("instance").path("state").asString()).isEqualTo("RUNNING");
    }

    private static void startSpawner(NetworkLab lab, Host host, String advertised, Path keys, String name) {
        ProcessBuilder spawner = lab.processBuilder(host, NetworkLab.javaCommand("-Xmx256m", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-Dfabric.spawner.stop-members-on-shutdown=true",
                "-Dfabric.spawner.bootstrap-timeout=240s", "-Dfabric.spawner.otp-ttl=240s", "-jar", SPAWNER_JAR.toString()));
        spawner.environment().put("FABRIC_KEYS_PATH", keys.toString());
        spawner.environment().put("FABRIC_DATA_DIR", dir.resolve("spawner-" + name).toString());
        spawner.environment().put("FABRIC_REGISTRY_URL", registryUrl);
        spawner.environment().put("FABRIC_SPAWNER_PORT", Integer.toString(SPAWNER_PORT));
        spawner.environment().put("FABRIC_SPAWNER_ADVERTISED_URL", advertised);
        lab.startProcess(spawner, dir.resolve("spawner-" + name + ".log"));
    }

    private static String ok(NetworkLab lab, Host from, String... arguments) {
        List<String> all = new ArrayList<>(List.of("--registry", registryUrl, "--keys", dir.resolve("keys").toString()));
        all.addAll(List.of(arguments));
        ExecResult result = lab.exec(from, cli(all));
        assertThat(result.exitCode()).as("fabric %s on %s: %s\n%s\n%s", all, from, result.stderr(), log("spawner-gateway.log"),
                log("spawner-head.log")).isZero();
        return result.stdout();
    }

    private static String lastLine(String out) {
        return out.strip().lines().reduce((first, last) -> last).orElseThrow();
    }

    private static JsonNode service(NetworkLab lab, String id) {
        return JSON.readTree(ok(lab, Host.DESKTOP, "service", id, "-o", "json"));
    }

    private static String[] cli(List<String> arguments) {
        List<String> command = new ArrayList<>(List.of("env", "FABRIC_HOME_DIR=" + dir.resolve("home")));
        command.addAll(NetworkLab.javaCommand("--enable-native-access=ALL-UNNAMED", "-jar", CLI_JAR.toString()));
        command.addAll(arguments);
        return command.toArray(String[]::new);
    }

    private static void awaitReady(NetworkLab lab, Host host, String url, String log) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(180));
        while (!lab.exec(host, "curl", "-fsS", "--max-time", "2", url + "/actuator/health/readiness").ok()) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException(url + " on " + host.labName() + " is not ready after 180 s; log:\n" + log(log));
            }
            Thread.sleep(500);
        }
    }

    private static String log(String name) {
        try {
            Path file = dir.resolve(name);
            return Files.exists(file) ? Files.readString(file) : "(no " + name + ")";
        } catch (IOException e) {
            return "(unreadable " + name + ": " + e + ")";
        }
    }
}
