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
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A member restarted on request keeps its own members, even under {@code stop-members-on-shutdown}
 * (as {@code ./fabric up} runs its spawner): the restart is no stop for good, so the member's next
 * incarnation takes them back, as after a crash. A stop for good still stops them. Before, a
 * {@code fabric restart} of a pilot manager stopped its pilot's queue, pubsub and agents, and failed the pilot.
 */
class MemberRestartIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir, "--fabric.spawner.stop-members-on-shutdown=true");
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    static String spawnQueueAt(String node) {
        return fabric.signedClient(node).post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "queue")).retrieve().body(JsonNode.class).path("id").asString();
    }

    static long pidOf(String id) {
        return Long.parseLong(fabric.registry.get(id).metadata().get("pid"));
    }

    @Test
    void aMemberRestartedOnRequestKeepsItsMembersAndAStopForGoodStopsThem() throws Exception {
        String a = spawnQueueAt(fabric.spawnerUrl());
        ServiceInstance runningA = fabric.awaitState(a, InstanceState.RUNNING, 1);
        String b = spawnQueueAt(runningA.endpoints().get("management"));
        fabric.awaitState(b, InstanceState.RUNNING, 1);
        long pidB = pidOf(b);

        ServiceInstance restarting = fabric.signedClient(fabric.spawnerUrl()).post().uri("/api/v1/members/{id}/restart", a)
                .retrieve().body(ServiceInstance.class);
        assertThat(restarting.incarnation()).isEqualTo(2);
        ServiceInstance restartedA = fabric.awaitState(a, InstanceState.RUNNING, 2);
        ServiceInstance keptB = fabric.registry.get(b);
        assertThat(keptB.state()).as(fabric.registry.history(b).toString()).isEqualTo(InstanceState.RUNNING);
        assertThat(keptB.incarnation()).as("never stopped, never restarted").isEqualTo(1);
        assertThat(ProcessHandle.of(pidB).map(ProcessHandle::isAlive)).hasValue(true);
        Path logA = dir.resolve("spawner-data").resolve("members").resolve(a).resolve("member.log");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(FabricUnderTest.log(logA)).contains("member " + b + " incarnation 1: re-adopted"));
        assertThat(FabricUnderTest.log(logA)).contains("its members will keep running");
        assertThat(ServiceInstance.supervisorOf(fabric.registry.get(b))).isEqualTo(a);
        assertThat(pidOf(b)).isEqualTo(pidB);
        assertThat(restartedA.incarnation()).isEqualTo(2);

        // A stop for good: the member stops its own members first, as the setting says.
        fabric.signedClient(fabric.spawnerUrl()).delete().uri("/api/v1/members/{id}", a).retrieve().toBodilessEntity();
        assertThat(fabric.awaitState(b, InstanceState.STOPPED, 1).stateReason()).contains("stopped");
        assertThat(ProcessHandle.of(pidB).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }
}
