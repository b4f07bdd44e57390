package dev.fabric.cli;

import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.Reach;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

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

    private static final int REGISTRY_PORT = 8470;
    private static final int SPAWNER_PORT = 8472;
    private static final int RELAY_PORT = 8480;

    @TempDir
    static Path dir;

    /** A failure keeps the fabric's logs in target/lab-logs/ and prints their ends, before the directory goes. */
    @RegisterExtension
    static final LabFabric.KeepLogsOnFailure keepLogs = new LabFabric.KeepLogsOnFailure(() -> dir);

    private static LabFabric fabric;
    private static String gatewaySpawner;
    private static String headSpawner;

    @BeforeAll
    static void fabric(NetworkLab lab) throws Exception {
        fabric = LabFabric.start(lab, dir, REGISTRY_PORT);
        gatewaySpawner = "http://" + lab.address(Host.GATEWAY, Host.DESKTOP) + ":" + SPAWNER_PORT;
        fabric.startSpawner(Host.GATEWAY, "gateway", SPAWNER_PORT, gatewaySpawner, List.of());
        headSpawner = "http://" + lab.address(Host.HEAD, Host.GATEWAY) + ":" + SPAWNER_PORT;
        fabric.startSpawner(Host.HEAD, "head", SPAWNER_PORT, headSpawner, List.of());
        fabric.awaitReady(Host.GATEWAY, gatewaySpawner, "spawner-gateway.log");
        fabric.awaitReady(Host.HEAD, headSpawner, "spawner-head.log");
    }

    @Test
    void aQueueOnHeadBehindModeTwoIsManagedFromDesktopThroughGatewaysBridge(NetworkLab lab) throws Exception {
        // The bridge on gateway listens on every address of gateway; each host names gateway at the address it reaches it on.
        String bridge = LabFabric.lastLine(fabric.ok(Host.GATEWAY, "spawn", "bridge", "--spawner", gatewaySpawner, "--config",
                "port=" + RELAY_PORT, "--config", "address=0.0.0.0", "--config", "host=gateway", "--wait", "--timeout", "4m"));
        String queue = LabFabric.lastLine(fabric.ok(Host.GATEWAY, "spawn", "queue", "--spawner", headSpawner,
                "--config", "via=http://gateway:" + RELAY_PORT, "--wait", "--timeout", "4m"));
        assertThat(fabric.service(queue).path("instance").path("metadata").path("via").asString()).isEqualTo(bridge);

        // Mode 2 on head: new connections to its service ports are dropped. Its channel, opened outward, stays.
        lab.setMode(Host.HEAD, Mode.FIREWALL_TO_SERVICE);
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SPAWNER_PORT)).as("head takes no new connection").isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.DESKTOP, Host.HEAD, SPAWNER_PORT)).isEqualTo(Reach.UNREACHABLE);

        String id = fabric.ok(Host.DESKTOP, "queue", "put", queue, "from the desktop").strip();
        List<String> taken = fabric.ok(Host.DESKTOP, "queue", "take", queue).lines().toList();
        assertThat(taken.get(1)).startsWith(id).endsWith("from the desktop");

        // Its heartbeats keep reaching the registry (through the bridge).
        Instant beat = Instant.parse(fabric.service(queue).path("instance").path("lastHeartbeatAt").asString());
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        Instant later = beat;
        while (!later.isAfter(beat) && Instant.now().isBefore(deadline)) {
            Thread.sleep(500);
            later = Instant.parse(fabric.service(queue).path("instance").path("lastHeartbeatAt").asString());
        }
        assertThat(later).isAfter(beat);
        assertThat(fabric.service(queue).path("instance").path("state").asString()).isEqualTo("RUNNING");
    }
}
