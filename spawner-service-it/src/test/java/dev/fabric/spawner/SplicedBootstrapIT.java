package dev.fabric.spawner;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connectivity mode 4 on loopback (docs/connectivity.md): the spawner opens a rendezvous, the member
 * joins it with its bootstrap identity, both dial. On loopback nothing drops an early SYN, so each
 * dial is nearly always reset before the other side's SYN can cross it: the splice opens no
 * connection, which is what a symmetric NAT does too, and both sides fall back to a circuit through
 * the bridge the member names. (On a loaded machine the two dials now and then meet in a TCP
 * simultaneous open and the splice opens: {@link #spawnWhereNoSpliceOpens} spawns again then.)
 * The bootstrap (hello, keys, setup check, configuration) runs over the circuit; the history and
 * the member's registration say which path it took. The splice itself, through real NATs, is
 * {@code SplicedAcrossTheLabIT} (fabric-cli).
 */
class SplicedBootstrapIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    /** A member's JVM on a machine shared with other builds, then the splice's dialing window. */
    static final java.time.Duration PATIENCE = java.time.Duration.ofMinutes(3);
    static final java.util.Set<InstanceState> SETTLED = java.util.EnumSet.of(InstanceState.RUNNING, InstanceState.FAILED,
            InstanceState.STOPPED, InstanceState.LOST);

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir);
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        if (fabric != null) {
            fabric.close();
        }
    }

    static String spawn(Map<String, Object> request) {
        return fabric.spawn(request);
    }

    /**
     * Spawns a mode 4 member until its bootstrap's splice opens no connection, which these cases are
     * about (three tries): a member whose splice did open is stopped and the spawn made again. Answers
     * the member once it is RUNNING or FAILED.
     */
    static ServiceInstance spawnWhereNoSpliceOpens(Map<String, Object> request) throws Exception {
        for (int attempt = 1; attempt <= 3; attempt++) {
            String id = spawn(request);
            ServiceInstance settled = settled(id);
            String splice = settled.metadata() == null ? null : settled.metadata().get("splice");
            if (splice == null || !splice.startsWith("spliced ")) {
                return settled;
            }
            fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
        }
        return Assumptions.abort("the bootstrap's splice opened on loopback three times (simultaneous opens on a loaded machine)");
    }

    /** The member once it is RUNNING, or has ended, at incarnation 1. */
    static ServiceInstance settled(String id) throws InterruptedException {
        java.time.Instant deadline = java.time.Instant.now().plus(PATIENCE);
        ServiceInstance now = fabric.registry.get(id);
        while (java.time.Instant.now().isBefore(deadline)) {
            now = fabric.registry.get(id);
            if (SETTLED.contains(now.state())) {
                return now;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("member " + id + " is " + now + " after " + PATIENCE + "\nhistory: " + fabric.registry.history(id));
    }

    @Test
    void whenNoSpliceOpensTheMemberIsBootstrappedThroughItsBridgeAndSaysSo() throws Exception {
        String bridgeId = spawn(Map.of("type", "bridge"));
        ServiceInstance bridge = fabric.awaitState(bridgeId, InstanceState.RUNNING, 1, PATIENCE);
        String relay = bridge.endpoints().get("relay");

        ServiceInstance settled = spawnWhereNoSpliceOpens(Map.of("type", "queue", "connectivity", "SPLICED", "config", Map.of("via", relay)));
        String queue = settled.id();
        ServiceInstance running = fabric.awaitState(queue, InstanceState.RUNNING, 1, PATIENCE);

        assertThat(running.connectivity().name()).isEqualTo("SPLICED");
        List<String> steps = fabric.registry.history(queue).stream().map(t -> t.to() + ": " + t.reason()).toList();
        assertThat(steps).anyMatch(s -> s.startsWith("PENDING: mode 4: rendezvous rv-") && s.endsWith(" opened at the registry for the splice"));
        assertThat(steps).anyMatch(s -> s.startsWith("BOOTSTRAPPING: mode 4: relayed through the bridge at " + relay
                + ": the splice failed (no-connection"));
        assertThat(steps).containsSubsequence(
                "BOOTSTRAPPING: mode 4: fabric keys delivered over the circuit through the bridge, sealed to the member's key",
                "BOOTSTRAPPING: setup verified over the management port (signed request)",
                "BOOTSTRAPPING: configuring for role queue",
                "RUNNING: registered RUNNING (incarnation 1)");
        assertThat(running.metadata()).containsEntry("splice", "relayed through bridge " + bridgeId + " (splice failed (no-connection))")
                .containsKey("splice.since").containsEntry("via", bridgeId);

        // Reached through its bridge afterwards, by anyone holding the fabric key.
        try (FabricClient client = FabricClient.builder(URI.create(fabric.registryUrl), fabric.keys).name("spliced-it").build()) {
            JsonNode status = client.call(queue, (http, url) -> http.get().uri("/management/v1/status").retrieve().body(JsonNode.class));
            assertThat(status.path("id").asString()).isEqualTo(queue);
            // The call tried a splice on demand first (the member joined the rendezvous through its bridge's word), which
            // nearly always opens no connection here either, so the call went through the bridge: the client and the member
            // say so. When the two dials did meet, both say it was spliced instead.
            String path = client.splicePath(queue).orElseThrow().toString();
            java.time.Instant deadline = java.time.Instant.now().plus(java.time.Duration.ofSeconds(30));
            while (!fabric.registry.get(queue).metadata().containsKey("splice.on-demand") && java.time.Instant.now().isBefore(deadline)) {
                Thread.sleep(200);
            }
            Map<String, String> recorded = fabric.registry.get(queue).metadata();
            assertThat(recorded).containsKey("splice.on-demand.since");
            if (path.startsWith("spliced")) {
                assertThat(recorded.get("splice.on-demand")).as("the member's record of the caller's splice").startsWith("spliced");
            } else {
                assertThat(path).startsWith("relayed through the bridge at " + URI.create(relay).getHost() + ":" + URI.create(relay).getPort()
                        + " (splice failed: no-connection)");
                assertThat(recorded).containsEntry("splice.on-demand", "relayed through bridge " + bridgeId + " (splice failed (no-connection))");
            }
        }
    }

    /**
     * The bootstrap's connection dropped at a known step: the member's half of the circuit is reset (both
     * ends, as when a NAT forgets a flow) by a proxy in front of the bridge just as the member answers the
     * spawner's key offer: the member holds its keys, the spawner used the password but never saw the
     * answer. Both sides replace the connection with a circuit through the bridge ({@code rv-...-r1}), and
     * the bootstrap finishes over it: the offer made again finds the keys delivered (the password is not
     * used twice), the setup check and the configuration follow, and history and registration say so.
     */
    /** A bridge on a port of its own, on loopback only, and a {@link CuttingProxy} in front of it at another address, same port. */
    static BridgeBehindProxy cuttingProxy(String marker, boolean refuseAfterCut) throws Exception {
        java.net.InetAddress other = CuttingProxy.otherAddress()
                .orElseGet(() -> Assumptions.abort("no address of this host but 127.0.0.1 to put a proxy in front of a bridge on"));
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        CuttingProxy proxy = new CuttingProxy(new java.net.InetSocketAddress(other, port), new java.net.InetSocketAddress("127.0.0.1", port),
                marker, refuseAfterCut);
        String bridgeId = spawn(Map.of("type", "bridge", "config", Map.of("port", Integer.toString(port), "address", "127.0.0.1")));
        fabric.awaitState(bridgeId, InstanceState.RUNNING, 1, PATIENCE);
        return new BridgeBehindProxy(proxy, bridgeId);
    }

    record BridgeBehindProxy(CuttingProxy proxy, String bridgeId) implements AutoCloseable {
        String url() {
            return proxy.url();
        }

        int cuts() {
            return proxy.cuts();
        }

        @Override
        public void close() throws Exception {
            proxy.close();
        }
    }

    @Test
    void whenTheBootstrapsConnectionDropsTheBootstrapGoesOnOverANewCircuitAndSaysSo() throws Exception {
        try (BridgeBehindProxy proxy = cuttingProxy("HTTP/1.1 204", false)) {
            String bridgeId = proxy.bridgeId();
            ServiceInstance settled = spawnWhereNoSpliceOpens(Map.of("type", "queue", "connectivity", "SPLICED",
                    "config", Map.of("via", proxy.url())));
            String queue = settled.id();
            List<String> steps = fabric.registry.history(queue).stream().map(t -> t.to() + ": " + t.reason()).toList();
            assertThat(settled.state()).as("%s\nhistory: %s", settled, steps).isEqualTo(InstanceState.RUNNING);
            assertThat(proxy.cuts()).isEqualTo(1);

            String dropped = "BOOTSTRAPPING: mode 4: relayed through the bridge at " + proxy.url() + ": the circuit through the bridge "
                    + "dropped before the fabric keys were delivered (";
            assertThat(steps).anyMatch(s -> s.startsWith(dropped) && s.matches(".*; the bootstrap goes on over circuit rv-[A-Za-z0-9_-]+-r1"));
            assertThat(steps).containsSubsequence(
                    steps.stream().filter(s -> s.startsWith(dropped)).findFirst().orElseThrow(),
                    "BOOTSTRAPPING: mode 4: fabric keys delivered over the circuit through the bridge (the member already held them: "
                            + "they had arrived before the drop), sealed to the member's key",
                    "BOOTSTRAPPING: setup verified over the management port (signed request)",
                    "BOOTSTRAPPING: configuring for role queue",
                    "RUNNING: registered RUNNING (incarnation 1)");
            assertThat(settled.metadata().get("splice")).as("the member's record of its bootstrap's path")
                    .matches("relayed through bridge " + bridgeId + " \\(splice failed \\(no-connection\\); dropped before it was "
                            + "configured, went on over circuit rv-[A-Za-z0-9_-]+-r1\\)");

            // And it is reached through its bridge afterwards.
            try (FabricClient client = FabricClient.builder(URI.create(fabric.registryUrl), fabric.keys).name("spliced-drop-it")
                    .splicing(false).build()) {
                JsonNode status = client.call(queue, (http, url) -> http.get().uri("/management/v1/status").retrieve().body(JsonNode.class));
                assertThat(status.path("id").asString()).isEqualTo(queue);
            }
        }
    }

    /**
     * The same drop, and then the bridge cannot be reached either (the proxy closes every connection after
     * the cut): the bootstrap FAILs with why, and the member, which holds keys but no role, is gone.
     */
    @Test
    void whenTheBootstrapsConnectionDropsAndTheBridgeIsGoneTooTheBootstrapFailsAndTheMemberIsGone() throws Exception {
        try (BridgeBehindProxy proxy = cuttingProxy("HTTP/1.1 204", true)) {
            String bridgeId = proxy.bridgeId();
            ServiceInstance failed = spawnWhereNoSpliceOpens(Map.of("type", "queue", "connectivity", "SPLICED",
                    "config", Map.of("via", proxy.url())));
            List<String> steps = fabric.registry.history(failed.id()).stream().map(t -> t.to() + ": " + t.reason()).toList();
            assertThat(failed.state()).as("%s\nhistory: %s", failed, steps).isEqualTo(InstanceState.FAILED);
            assertThat(proxy.cuts()).isEqualTo(1);
            assertThat(failed.stateReason()).contains("mode 4: the circuit through the bridge dropped before the fabric keys were delivered");
            assertThat(failed.stateReason()).containsAnyOf("and the relay through the bridge at " + proxy.url() + " failed too",
                    "before the circuit through the bridge at " + proxy.url() + " that replaces it opened");
            String pid = failed.metadata() == null ? null : failed.metadata().get("pid");
            assertThat(pid).as("the member's pid in %s", failed.metadata()).isNotNull();
            assertThat(ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false)).as("the member is gone").isFalse();
            assertThat(FabricUnderTest.log(fabric.memberLog(failed.id())))
                    .containsAnyOf("mode 4: the connection with its spawner dropped before it was configured, and the relay through the bridge",
                            "exits with status");
        }
    }

    @Test
    void aSplicedSpawnWithoutABridgeFailsWithTheReasonWhenNoSpliceOpens() throws Exception {
        ServiceInstance failed = spawnWhereNoSpliceOpens(Map.of("type", "queue", "connectivity", "SPLICED"));
        assertThat(failed.state()).as("%s", failed).isEqualTo(InstanceState.FAILED);
        assertThat(failed.stateReason()).contains("mode 4: no spliced connection opened (no-connection), and no bridge (via) to relay through");
    }
}
