package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.StateTransition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every member spawns (docs/spawner.md, "Every member spawns"): the root spawner spawns member A,
 * A spawns member B over its management port with the spawner's own API; B's parent is A, which
 * restarts it; a killed A comes back and takes B back without a duplicate; a member whose parent is
 * gone for good is adopted by its grandparent (the root spawner, or a member: root -> A -> B -> C, B
 * stopped, A adopts C), and the registry records the adopter.
 */
class MemberSpawnIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    static final JsonMapper json = JsonMapper.builder().build();

    @BeforeAll
    static void start() throws Exception {
        // Two levels of member JVMs start on a machine shared with other builds: more time than the 60 s default
        // to redeem (the setting is inherited by the members that spawn).
        // A signature policy of its own, which its members inherit (aMemberVerifiesByItsSpawnersSignaturePolicy).
        fabric = new FabricUnderTest(dir, "--fabric.security.signature.skew=45s", "--fabric.security.signature.replay-cache-capacity=123456");
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    /** Spawns a queue through {@code node}'s {@code POST /api/v1/spawns}: the root spawner's or a member's. */
    static ResponseEntity<JsonNode> spawnQueueAt(String node) {
        return fabric.signedClient(node).post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "queue")).retrieve().toEntity(JsonNode.class);
    }

    static String management(ServiceInstance instance) {
        return instance.endpoints().get("management");
    }

    static long pidOf(String id) {
        return Long.parseLong(fabric.registry.get(id).metadata().get("pid"));
    }

    /** The node that started the member's live process: the one it redeemed its password at. */
    static String starterOf(String id) throws Exception {
        return FabricUnderTest.environmentOf(pidOf(id)).get("FABRIC_SPAWNER_ID");
    }

    /** How many live processes run the member: a duplicate would make two. */
    static long processesOf(String id) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("-Dfabric.member.id=" + id + " ")).count();
    }

    static List<String> membersListedBy(String node) {
        JsonNode listed = fabric.signedClient(node).get().uri("/api/v1/members").retrieve().body(JsonNode.class);
        List<String> ids = new ArrayList<>();
        listed.forEach(m -> ids.add(m.path("id").asString()));
        return ids;
    }

    static List<String> steps(String id) {
        return fabric.registry.history(id).stream().map((StateTransition t) -> t.to() + ": " + t.reason()).toList();
    }

    static void put(String queueUrl, String body) {
        assertThat(fabric.signedClient(queueUrl).post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", body)).retrieve().toBodilessEntity().getStatusCode().is2xxSuccessful()).isTrue();
    }

    static List<String> leaseAll(String queueUrl) {
        JsonNode leased = fabric.signedClient(queueUrl).post().uri("/leases?max=10").retrieve().body(JsonNode.class).path("messages");
        List<String> bodies = new ArrayList<>();
        leased.forEach(m -> bodies.add(m.path("body").asString()));
        return bodies;
    }

    /** Member A, spawned by the root spawner, and member B, spawned by A over A's management port; both RUNNING. */
    record Chain(String spawner, ServiceInstance a, ServiceInstance b) {}

    static Chain chain() throws Exception {
        String a = spawnQueueAt(fabric.spawnerUrl()).getBody().path("id").asString();
        ServiceInstance runningA = fabric.awaitState(a, InstanceState.RUNNING, 1);

        ResponseEntity<JsonNode> accepted = spawnQueueAt(management(runningA));
        assertThat(accepted.getStatusCode().value()).isEqualTo(202);
        String b = accepted.getBody().path("id").asString();
        assertThat(accepted.getBody().path("parentId").asString()).isEqualTo(a);
        assertThat(accepted.getHeaders().getLocation()).isEqualTo(URI.create(management(runningA) + "/api/v1/members/" + b));
        ServiceInstance runningB = fabric.awaitState(b, InstanceState.RUNNING, 1);
        return new Chain(runningA.parentId(), runningA, runningB);
    }

    @Test
    void aMemberVerifiesByItsSpawnersSignaturePolicy() throws Exception {
        String id = spawnQueueAt(fabric.spawnerUrl()).getBody().path("id").asString();
        fabric.awaitState(id, InstanceState.RUNNING, 1);
        Map<String, String> environment = FabricUnderTest.environmentOf(pidOf(id));
        assertThat(environment).containsEntry("FABRIC_SECURITY_SIGNATURE_SKEW", "PT45S")
                .containsEntry("FABRIC_SECURITY_SIGNATURE_REPLAYCACHECAPACITY", "123456")
                .doesNotContainKey("FABRIC_SECURITY_SIGNATURE_AUTHORITIES");
    }

    @Test
    void aMemberSpawnsAMemberAndRestartsItAndTakesItBackAfterItsOwnRestart() throws Exception {
        Chain chain = chain();
        String a = chain.a().id();
        String b = chain.b().id();
        assertThat(chain.b().parentId()).isEqualTo(a);
        assertThat(chain.b().metadata()).doesNotContainKey("supervisor");
        // Members heartbeat over heartbeat streams, each its own (docs/registry.md#heartbeat-streams).
        double streamed = fabric.streamedHeartbeats();
        Instant lastOfB = fabric.registry.get(b).lastHeartbeatAt();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(fabric.heartbeatStreams().isOpen(a)).isTrue();
            assertThat(fabric.heartbeatStreams().isOpen(b)).isTrue();
            assertThat(fabric.streamedHeartbeats()).isGreaterThanOrEqualTo(streamed + 4);
            assertThat(fabric.registry.get(b).lastHeartbeatAt()).isAfter(lastOfB);
        });
        assertThat(starterOf(b)).isEqualTo(a);
        assertThat(membersListedBy(management(chain.a()))).containsExactly(b);
        assertThat(membersListedBy(fabric.spawnerUrl())).contains(a).doesNotContain(b);
        String queueB = chain.b().endpoints().get("queue");
        put(queueB, "render frame 1");
        put(queueB, "render frame 2");

        // kill -9 of B: its parent A restarts it under its id, with its messages.
        ProcessHandle.of(pidOf(b)).ifPresent(ProcessHandle::destroyForcibly);
        ServiceInstance restartedB = fabric.awaitState(b, InstanceState.RUNNING, 2);
        assertThat(restartedB.incarnation()).isEqualTo(2);
        assertThat(restartedB.parentId()).isEqualTo(a);
        assertThat(steps(b)).contains("DEAD: its process killed by signal 9");
        assertThat(starterOf(b)).isEqualTo(a);
        assertThat(leaseAll(restartedB.endpoints().get("queue"))).containsExactlyInAnyOrder("render frame 1", "render frame 2");
        long pidB = pidOf(b);

        // kill -9 of A: the root spawner restarts A; A's new incarnation takes B back, no duplicate of B.
        ProcessHandle.of(pidOf(a)).ifPresent(ProcessHandle::destroyForcibly);
        ServiceInstance restartedA = fabric.awaitState(a, InstanceState.RUNNING, 2);
        Path logA = dir.resolve("spawner-data").resolve("members").resolve(a).resolve("member.log");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(FabricUnderTest.log(logA)).contains("member " + b + " incarnation 2: re-adopted"));
        ServiceInstance afterB = fabric.registry.get(b);
        assertThat(afterB.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(afterB.incarnation()).isEqualTo(2);
        assertThat(pidOf(b)).isEqualTo(pidB);
        assertThat(processesOf(b)).isEqualTo(1);
        assertThat(ServiceInstance.supervisorOf(afterB)).isEqualTo(a);
        assertThat(membersListedBy(management(restartedA))).containsExactly(b);
        assertThat(membersListedBy(fabric.spawnerUrl())).doesNotContain(b);

        // Taken back means watched: its next death is seen by A's new incarnation.
        ProcessHandle.of(pidB).ifPresent(ProcessHandle::destroyForcibly);
        ServiceInstance thirdB = fabric.awaitState(b, InstanceState.RUNNING, 3);
        assertThat(thirdB.incarnation()).isEqualTo(3);
        assertThat(starterOf(b)).isEqualTo(a);
        assertThat(processesOf(b)).isEqualTo(1);
    }

    @Test
    void aMemberWhoseParentIsStoppedIsAdoptedByItsGrandparentWhichRestartsItWithItsData() throws Exception {
        Chain chain = chain();
        String a = chain.a().id();
        String b = chain.b().id();
        put(chain.b().endpoints().get("queue"), "keep me");
        long pidB = pidOf(b);

        assertThat(fabric.spawnerClient().delete().uri("/api/v1/members/{id}", a).retrieve().toBodilessEntity()
                .getStatusCode().value()).isEqualTo(204);
        fabric.awaitState(a, InstanceState.STOPPED, 1);

        // The root spawner takes B over: its process runs on, and the registry names the adopter.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(ServiceInstance.supervisorOf(fabric.registry.get(b))).isEqualTo(chain.spawner()));
        ServiceInstance adopted = fabric.registry.get(b);
        assertThat(adopted.parentId()).isEqualTo(a);
        assertThat(adopted.incarnation()).isEqualTo(1);
        assertThat(adopted.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(pidOf(b)).isEqualTo(pidB);
        assertThat(steps(b)).contains("RUNNING: adopted by " + chain.spawner() + " (was supervised by " + a + ")");
        assertThat(membersListedBy(fabric.spawnerUrl())).contains(b);

        // Adopted means supervised: its death is seen by the adopter, which restarts it where its data is.
        ProcessHandle.of(pidB).ifPresent(ProcessHandle::destroyForcibly);
        ServiceInstance restarted = fabric.awaitState(b, InstanceState.RUNNING, 2);
        assertThat(restarted.parentId()).isEqualTo(a);
        assertThat(ServiceInstance.supervisorOf(restarted)).isEqualTo(chain.spawner());
        assertThat(starterOf(b)).isEqualTo(chain.spawner());
        assertThat(processesOf(b)).isEqualTo(1);
        assertThat(leaseAll(restarted.endpoints().get("queue"))).containsExactly("keep me");
    }

    @Test
    void aMemberWhoseParentMemberIsStoppedIsAdoptedByItsGrandparentMemberAndOnlyByIt() throws Exception {
        Chain chain = chain();
        String a = chain.a().id();
        String b = chain.b().id();
        ResponseEntity<JsonNode> accepted = spawnQueueAt(management(chain.b()));
        assertThat(accepted.getStatusCode().value()).isEqualTo(202);
        String c = accepted.getBody().path("id").asString();
        ServiceInstance runningC = fabric.awaitState(c, InstanceState.RUNNING, 1);
        assertThat(runningC.parentId()).isEqualTo(b);
        long pidC = pidOf(c);

        // A stops B, its own member: B's member C is left to its grandparent, A, not to the root spawner.
        assertThat(fabric.signedClient(management(chain.a())).delete().uri("/api/v1/members/{id}", b).retrieve().toBodilessEntity()
                .getStatusCode().value()).isEqualTo(204);
        fabric.awaitState(b, InstanceState.STOPPED, 1);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(ServiceInstance.supervisorOf(fabric.registry.get(c))).isEqualTo(a));
        ServiceInstance adopted = fabric.registry.get(c);
        assertThat(adopted.parentId()).isEqualTo(b);
        assertThat(adopted.incarnation()).isEqualTo(1);
        assertThat(adopted.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(pidOf(c)).isEqualTo(pidC);
        assertThat(steps(c)).contains("RUNNING: adopted by " + a + " (was supervised by " + b + ")");
        assertThat(steps(c)).filteredOn(step -> step.contains("adopted by")).hasSize(1);
        // Supervised once: A lists it, the root spawner does not, and one process runs it.
        assertThat(membersListedBy(management(chain.a()))).contains(c);
        assertThat(membersListedBy(fabric.spawnerUrl())).doesNotContain(c);
        assertThat(processesOf(c)).isEqualTo(1);
    }

    @Test
    void unsignedAndTamperedSpawnRequestsToAMemberAreRefusedAndSpawnNothing() throws Exception {
        String a = spawnQueueAt(fabric.spawnerUrl()).getBody().path("id").asString();
        ServiceInstance member = fabric.awaitState(a, InstanceState.RUNNING, 1);
        int before = fabric.registry.list(null, null, null, null).instances().size();
        fabric.assertUnsignedAndTamperedSpawnsAreRefused(URI.create(management(member) + "/api/v1/spawns"));

        assertThat(fabric.registry.list(null, null, null, null).instances()).hasSize(before);
        assertThat(membersListedBy(management(member))).isEmpty();
    }

    @Test
    void aMemberAnswersBadSpawnsAsTheSpawnerDoes() throws Exception {
        String a = spawnQueueAt(fabric.spawnerUrl()).getBody().path("id").asString();
        RestClient member = fabric.signedClient(management(fabric.awaitState(a, InstanceState.RUNNING, 1)));
        int before = fabric.registry.list(null, null, null, null).instances().size();
        for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("type", "teapot"), Map.of("type", "queue", "resources",
                Map.of("cpu", "lots")), Map.of("type", "queue", "config", Map.of("via", "gateway:8480")))) {
            JsonNode fromMember = member.post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON).body(bad).retrieve()
                    .body(JsonNode.class);
            JsonNode fromSpawner = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON).body(bad)
                    .retrieve().body(JsonNode.class);
            assertThat(fromMember.path("status").asInt()).isEqualTo(400);
            assertThat(fromMember.path("reason").asString()).isEqualTo(fromSpawner.path("reason").asString());
        }
        JsonNode unknown = member.get().uri("/api/v1/members/{id}", "queue-00000000").retrieve().body(JsonNode.class);
        assertThat(unknown.path("reason").asString()).isEqualTo("unknown-member");
        assertThat(fabric.registry.list(null, null, null, null).instances()).hasSize(before);
    }
}
