package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fail-over (seed 003, "Reconnect a service within a fabric after fail-over"): a member killed
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
        JsonNode answer = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "queue")).retrieve().body(JsonNode.class);
        return answer.path("id").asString();
    }

    static long pidOf(String id) {
        return Long.parseLong(fabric.registry.get(id).metadata().get("pid"));
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
    void aMemberKilledWithSignal9IsRestartedUnderItsIdWithAHigherIncarnation() throws Exception {
        String id = spawnQueue();
        fabric.awaitState(id, InstanceState.RUNNING, 1);
        long pid = pidOf(id);

        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

        ServiceInstance restarted = fabric.awaitState(id, InstanceState.RUNNING, 2);
        assertThat(restarted.id()).isEqualTo(id);
        assertThat(restarted.incarnation()).isEqualTo(2);
        List<String> steps = fabric.registry.history(id).stream().map(t -> t.to() + ": " + t.reason()).toList();
        assertThat(steps).contains("DEAD: its process killed by signal 9");
        assertThat(steps).anyMatch(s -> s.startsWith("PENDING: restarted as incarnation 2"));
        assertThat(steps).anyMatch(s -> s.contains("configuring for role queue (restart: recover the old state)"));
    }
}
