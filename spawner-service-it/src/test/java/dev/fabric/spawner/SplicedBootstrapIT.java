package dev.fabric.spawner;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
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
        JsonNode answer = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON).body(request)
                .retrieve().body(JsonNode.class);
        assertThat(answer.path("id").asString()).as("spawn answer %s", answer).isNotBlank();
        return answer.path("id").asString();
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
        FabricClient client = FabricClient.builder(URI.create(fabric.registryUrl), fabric.keys).name("spliced-it").build();
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

    @Test
    void aSplicedSpawnWithoutABridgeFailsWithTheReasonWhenNoSpliceOpens() throws Exception {
        ServiceInstance failed = spawnWhereNoSpliceOpens(Map.of("type", "queue", "connectivity", "SPLICED"));
        assertThat(failed.state()).as("%s", failed).isEqualTo(InstanceState.FAILED);
        assertThat(failed.stateReason()).contains("mode 4: no spliced connection opened (no-connection), and no bridge (via) to relay through");
    }
}
