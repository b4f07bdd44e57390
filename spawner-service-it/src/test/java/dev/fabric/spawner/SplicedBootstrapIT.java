package dev.fabric.spawner;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.AfterAll;
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
 * dial is reset before the other side's SYN can cross it: the splice opens no connection, which is
 * what a symmetric NAT does too, and both sides fall back to a circuit through the bridge the member
 * names. The bootstrap (hello, keys, setup check, configuration) runs over the circuit; the history
 * and the member's registration say which path it took. The splice itself, through real NATs, is
 * {@code SplicedAcrossTheLabIT} (fabric-cli).
 */
class SplicedBootstrapIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    /** A member's JVM on a machine shared with other builds, then the splice's dialing window. */
    static final java.time.Duration PATIENCE = java.time.Duration.ofMinutes(3);

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir, "--fabric.spawner.otp-ttl=180s", "--fabric.spawner.bootstrap-timeout=180s");
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

    @Test
    void whenNoSpliceOpensTheMemberIsBootstrappedThroughItsBridgeAndSaysSo() throws Exception {
        String bridgeId = spawn(Map.of("type", "bridge"));
        ServiceInstance bridge = fabric.awaitState(bridgeId, InstanceState.RUNNING, 1, PATIENCE);
        String relay = bridge.endpoints().get("relay");

        String queue = spawn(Map.of("type", "queue", "connectivity", "SPLICED", "config", Map.of("via", relay)));
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
        // opened no connection here either, so the call went through the bridge: the client and the member say so.
        assertThat(client.splicePath(queue)).hasValueSatisfying(path -> assertThat(path.toString())
                .startsWith("relayed through the bridge at " + URI.create(relay).getHost() + ":" + URI.create(relay).getPort()
                        + " (splice failed: no-connection)"));
        java.time.Instant deadline = java.time.Instant.now().plus(java.time.Duration.ofSeconds(30));
        while (!fabric.registry.get(queue).metadata().containsKey("splice.on-demand") && java.time.Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
        }
        assertThat(fabric.registry.get(queue).metadata()).containsEntry("splice.on-demand", "relayed through bridge " + bridgeId
                + " (splice failed (no-connection))").containsKey("splice.on-demand.since");
    }

    @Test
    void aSplicedSpawnWithoutABridgeFailsWithTheReasonWhenNoSpliceOpens() throws Exception {
        String queue = spawn(Map.of("type", "queue", "connectivity", "SPLICED"));
        ServiceInstance failed = fabric.awaitState(queue, InstanceState.FAILED, 1, PATIENCE);
        assertThat(failed.stateReason()).contains("mode 4: no spliced connection opened (no-connection), and no bridge (via) to relay through");
    }
}
