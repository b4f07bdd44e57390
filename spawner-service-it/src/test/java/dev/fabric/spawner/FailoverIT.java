package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fail-over (docs/spawner.md, "Fail-over"): a member killed
 * with -9 comes back under its id with its state; a spawner killed with -9 takes its members
 * back instead of spawning duplicates.
 */
class FailoverIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir);
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    static String spawnQueue() {
        return fabric.spawn(Map.of("type", "queue"));
    }

    static long pidOf(String id) {
        return Long.parseLong(fabric.registry.get(id).metadata().get("pid"));
    }

    @Test
    void aSpawnerTheRegistryDeclaredDeadRegistersAgainAndKeepsSupervising() throws Exception {
        String id = spawnQueue();
        fabric.awaitState(id, InstanceState.RUNNING, 1);
        long pid = pidOf(id);
        String spawnerId = fabric.registry.get(id).parentId();
        ServiceInstance spawner = fabric.registry.get(spawnerId);
        // What the failure detector records after a pause longer than the dead threshold.
        fabric.registry.changeState(spawnerId, spawner.incarnation(), InstanceState.DEAD, "no heartbeat (a long pause)", null);

        fabric.awaitState(spawnerId, InstanceState.RUNNING, spawner.incarnation() + 1);
        assertThat(FabricUnderTest.log(fabric.spawnerLog())).contains("the registry refused its heartbeat");
        // Still supervising, and its members stay its own: one killed with -9 comes back under its id.
        assertThat(fabric.registry.get(id).parentId()).isEqualTo(spawnerId);
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        fabric.awaitState(id, InstanceState.RUNNING, 2);
    }

    @Test
    void aRestartedSpawnerReadoptsItsRunningMembers() throws Exception {
        String id = spawnQueue();
        ServiceInstance before = fabric.awaitState(id, InstanceState.RUNNING, 1);
        long pid = pidOf(id);
        String spawnerId = before.parentId();
        long spawnerIncarnation = fabric.registry.get(spawnerId).incarnation();
        int members = fabric.registry.list(null, null, spawnerId, null).instances().size();

        fabric.killSpawner();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
        fabric.startSpawner();

        assertThat(fabric.registry.get(spawnerId).incarnation()).isEqualTo(spawnerIncarnation + 1);
        ServiceInstance after = fabric.registry.get(id);
        assertThat(after.incarnation()).isEqualTo(1);
        assertThat(after.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(pidOf(id)).isEqualTo(pid);
        assertThat(fabric.registry.list(null, null, spawnerId, null).instances()).hasSize(members);
        assertThat(FabricUnderTest.log(fabric.spawnerLog())).contains("member " + id + " incarnation 1: re-adopted");

        // Adopted means watched: its death is seen and it comes back under its id.
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        ServiceInstance restarted = fabric.awaitState(id, InstanceState.RUNNING, 2);
        assertThat(restarted.incarnation()).isEqualTo(2);
        assertThat(pidOf(id)).isNotEqualTo(pid);
    }

    @Test
    void aMemberKilledWithSignal9IsRestartedUnderItsIdWithItsMessages() throws Exception {
        String id = spawnQueue();
        ServiceInstance running = fabric.awaitState(id, InstanceState.RUNNING, 1);
        RestClient queue = fabric.signedClient(running.endpoints().get("queue"));
        for (String body : List.of("resize image 1", "resize image 2", "resize image 3")) {
            assertThat(queue.post().uri("/messages").contentType(MediaType.APPLICATION_JSON).body(Map.of("body", body))
                    .retrieve().toBodilessEntity().getStatusCode().is2xxSuccessful()).isTrue();
        }
        JsonNode first = queue.post().uri("/leases?max=1").retrieve().body(JsonNode.class).path("messages").get(0);
        assertThat(first.path("body").asString()).isEqualTo("resize image 1");
        assertThat(queue.delete().uri("/leases/{lease}", first.path("leaseId").asString()).retrieve().toBodilessEntity()
                .getStatusCode().value()).isEqualTo(204);
        long pid = pidOf(id);

        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

        ServiceInstance restarted = fabric.awaitState(id, InstanceState.RUNNING, 2);
        assertThat(restarted.id()).isEqualTo(id);
        assertThat(restarted.incarnation()).isEqualTo(2);
        List<String> steps = fabric.registry.history(id).stream().map(t -> t.to() + ": " + t.reason()).toList();
        assertThat(steps).contains("DEAD: its process killed by signal 9");
        assertThat(steps).anyMatch(s -> s.startsWith("PENDING: restarted as incarnation 2"));
        assertThat(steps).anyMatch(s -> s.contains("configuring for role queue (restart: recover the old state)"));

        // The acknowledged message stays gone; the two others are delivered again, intact.
        RestClient recovered = fabric.signedClient(restarted.endpoints().get("queue"));
        JsonNode leased = recovered.post().uri("/leases?max=10").retrieve().body(JsonNode.class).path("messages");
        List<String> bodies = new java.util.ArrayList<>();
        leased.forEach(m -> bodies.add(m.path("body").asString()));
        assertThat(bodies).containsExactlyInAnyOrder("resize image 2", "resize image 3");

        // Operators see it in the metrics: a kill, and a restart's bootstrap that reached RUNNING.
        String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(fabric.spawnerUrl() + "/actuator/prometheus")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("fabric_spawner_ends_total{application=\"fabric-spawner\",outcome=\"killed\"}")
                .contains("fabric_spawner_bootstraps_seconds_count{application=\"fabric-spawner\",outcome=\"running\",restart=\"true\"}");
    }

    @Test
    void aMemberThatCannotRecoverItsStateIsLostAndNotReplaced() throws Exception {
        String id = spawnQueue();
        ServiceInstance running = fabric.awaitState(id, InstanceState.RUNNING, 1);
        fabric.signedClient(running.endpoints().get("queue")).post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", "precious")).retrieve().toBodilessEntity();
        Path journal = dir.resolve("spawner-data").resolve("members").resolve(id).resolve("data").resolve("queue.journal");
        assertThat(journal).exists();
        int before = fabric.registry.list("queue", null, null, null).instances().size();

        java.nio.file.Files.delete(journal);
        ProcessHandle.of(pidOf(id)).ifPresent(ProcessHandle::destroyForcibly);

        ServiceInstance lost = fabric.awaitState(id, InstanceState.LOST, 2);
        assertThat(lost.stateReason()).contains("could not recover its state");
        assertThat(FabricUnderTest.log(fabric.memberLog(id))).contains("exits with status 86");
        // The queue's policy keeps a lost queue lost: no fresh member takes its place.
        assertThat(fabric.registry.list("queue", null, null, null).instances()).hasSize(before);
        JsonNode refused = fabric.spawnerClient().post().uri("/api/v1/members/{id}/restart", id).retrieve().body(JsonNode.class);
        assertThat(refused.path("reason").asString()).isEqualTo("member-lost");
    }
}
