package dev.fabric.spawner;

import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.StateTransition;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.contract.MemberEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The bootstrap handshake end to end: the real registry, the spawner process, members as
 * processes; the three connectivity modes and every way a bootstrap is refused.
 */
class BootstrapIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    /**
     * After a failed bootstrap the spawner waits this long for the member to exit by itself with its
     * status: a member JVM can take longer than the default 10s to start on a loaded machine, and the
     * refusal tests read that status from its log.
     */
    static final String PATIENT = "--fabric.spawner.stop-grace=60s";
    static final JsonMapper json = JsonMapper.builder().build();

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir, PATIENT);
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    static ResponseEntity<JsonNode> spawn(Map<String, Object> request) {
        return fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON).body(request)
                .retrieve().toEntity(JsonNode.class);
    }

    static String spawnQueue(String connectivity) {
        ResponseEntity<JsonNode> answer = spawn(Map.of("type", "queue", "connectivity", connectivity));
        assertThat(answer.getStatusCode().value()).as("%s", answer.getBody()).isEqualTo(202);
        return answer.getBody().path("id").asString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"DIRECT", "FIREWALL_TO_SERVICE", "FIREWALL_FROM_SERVICE"})
    void aSpawnedMemberBootstrapsInEachConnectivityMode(String connectivity) throws Exception {
        String id = spawnQueue(connectivity);

        ServiceInstance running = fabric.awaitState(id, InstanceState.RUNNING, 1);
        assertThat(running.parentId()).startsWith("spawner-");
        assertThat(running.connectivity().name()).isEqualTo(connectivity);
        assertThat(running.endpoints()).containsKeys("management", "queue");

        List<String> steps = fabric.registry.history(id).stream().map(t -> t.to() + ": " + t.reason()).toList();
        String keysStep = connectivity.equals("FIREWALL_FROM_SERVICE")
                ? "BOOTSTRAPPING: mode 3: the spawner dialed the member; fabric keys delivered sealed to its key"
                : "BOOTSTRAPPING: one-time password redeemed; fabric keys released sealed to the member's key";
        assertThat(steps).containsSubsequence(
                "PENDING: registered as incarnation 1",
                "PENDING: one-time password issued (valid for 180s)",
                keysStep,
                "BOOTSTRAPPING: setup verified over the management port (signed request)",
                "BOOTSTRAPPING: configuring for role queue",
                "RUNNING: registered RUNNING (incarnation 1)");
        assertThat(steps).anyMatch(s -> s.startsWith("BOOTSTRAPPING: launched by the process launcher (pid "));

        String management = running.endpoints().get("management");
        JsonNode status = fabric.signedClient(management).get().uri("/management/v1/status").retrieve().body(JsonNode.class);
        // The member registers RUNNING, then takes that phase itself: a status read in between still says AWAITING_CONFIGURATION.
        for (int read = 1; read < 50 && status.path("phase").asString().equals("AWAITING_CONFIGURATION"); read++) {
            Thread.sleep(100);
            status = fabric.signedClient(management).get().uri("/management/v1/status").retrieve().body(JsonNode.class);
        }
        assertThat(status.path("id").asString()).isEqualTo(id);
        assertThat(status.path("phase").asString()).isEqualTo("RUNNING");
        assertThat(status.path("keyId").asString()).isEqualTo(fabric.keys.keyId());

        HttpResponse<String> unsigned = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(management + "/management/v1/status")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unsigned.statusCode()).isEqualTo(401);
    }

    @Test
    void theSpawnAnswerLocatesTheMemberWithAnAbsoluteUrlAsTheRegistryDoes() throws Exception {
        ResponseEntity<JsonNode> answer = spawn(Map.of("type", "queue"));
        assertThat(answer.getStatusCode().value()).as("%s", answer.getBody()).isEqualTo(202);
        String id = answer.getBody().path("id").asString();

        assertThat(answer.getHeaders().getLocation()).hasToString(fabric.spawnerUrl() + "/api/v1/members/" + id);
        JsonNode member = fabric.spawnerClient().get().uri(answer.getHeaders().getLocation()).retrieve().body(JsonNode.class);
        assertThat(member.path("id").asString()).isEqualTo(id);
    }

    @Test
    void unsignedAndTamperedSpawnRequestsAreRefusedAndSpawnNothing() throws Exception {
        int before = fabric.registry.list(null, null, null, null).instances().size();
        fabric.assertUnsignedAndTamperedSpawnsAreRefused(URI.create(fabric.spawnerUrl() + "/api/v1/spawns"));

        assertThat(fabric.registry.list(null, null, null, null).instances()).hasSize(before);
    }

    @Test
    void unknownRolesBadResourcesAndModesAreRefusedWithTheirReason() {
        int before = fabric.registry.list(null, null, null, null).instances().size();
        assertProblem(spawn(Map.of("type", "teapot")), 400, "unknown-role");
        assertProblem(spawn(Map.of("type", "queue", "resources", Map.of("cpu", "lots"))), 400, "invalid-resources");
        assertProblem(spawn(Map.of("type", "queue", "resources", Map.of("memory", "16Mi"))), 400, "invalid-resources");
        assertProblem(spawn(Map.of("type", "queue", "connectivity", "CARRIER_PIGEON")), 400, "invalid-request");
        assertProblem(spawn(Map.of("type", "no spaces")), 400, "invalid-request");
        assertThat(fabric.registry.list(null, null, null, null).instances()).hasSize(before);
    }

    @Test
    void aWrongPasswordFailsTheBootstrapAndReleasesNoKeys() throws Exception {
        String id = spawnQueue("DIRECT");
        // The member's JVM takes seconds to start: this guess arrives first and uses the password up.
        HttpResponse<String> guess = redeem(id, 1, "not-the-password");
        assertThat(guess.statusCode()).isEqualTo(403);
        assertThat(json.readTree(guess.body()).path("reason").asString()).isEqualTo("otp-refused");
        assertThat(guess.body()).doesNotContain("ciphertext");

        ServiceInstance failed = fabric.awaitState(id, InstanceState.FAILED, 1);
        assertThat(failed.stateReason()).contains("one-time password refused: wrong; fabric keys not released");
        String memberLog = FabricUnderTest.log(fabric.memberLog(id));
        assertThat(memberLog).doesNotContain("one-time password redeemed");
        // On a loaded machine the spawner may stop the member before its JVM gets as far as redeeming;
        // a member that does get there is refused and exits OTP_REFUSED.
        if (memberLog.contains("exits with status")) {
            assertThat(memberLog).contains("exits with status 82");
        }
    }

    @Test
    void anImpostorHoldingTheMembersPortInMode3GetsNoKeysAndTheBootstrapFails() throws Exception {
        String id = spawnQueue("FIREWALL_FROM_SERVICE");
        Map<String, String> environment = FabricUnderTest.environmentOf(pidOf(id));
        String otp = environment.get(MemberEnvironment.OTP);
        int port = Integer.parseInt(environment.get(MemberEnvironment.MANAGEMENT_PORT));
        // The member's JVM takes seconds to bind the port the launcher chose: a local process binds it first
        // and answers the spawner's dial with everything the member's command line and environment name but the password.
        List<String> received = new CopyOnWriteArrayList<>();
        HttpServer impostor = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        impostor.createContext("/", exchange -> {
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] hello = json.writeValueAsBytes(new BootstrapWire.Hello(id, 1,
                    Base64.getEncoder().encodeToString(KeySealing.newEphemeralKeyPair().getPublic().getEncoded()),
                    BootstrapProofs.encode(Ed25519.generate().getPublic()), "bm90LWEtcHJvb2Y"));
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, hello.length);
            exchange.getResponseBody().write(hello);
            exchange.close();
        });
        impostor.start();
        try {
            ServiceInstance failed = fabric.awaitState(id, InstanceState.FAILED, 1);
            assertThat(failed.stateReason()).contains("did not prove it knows");
            assertThat(received).isNotEmpty().allMatch(r -> r.startsWith("GET /bootstrap/v1/hello?challenge="));
            assertThat(String.join("\n", received)).doesNotContain(otp).doesNotContain("ciphertext");
            assertThat(failed.endpoints()).doesNotContainKey("queue");
        } finally {
            impostor.stop(0);
        }
    }

    @Test
    void aPasswordPresentedForAnotherServiceIsRefused() throws Exception {
        String a = spawnQueue("DIRECT");
        String b = spawnQueue("DIRECT");
        String otpOfA = FabricUnderTest.environmentOf(pidOf(a)).get("FABRIC_OTP");
        assertThat(otpOfA).isNotBlank();

        HttpResponse<String> crossed = redeem(b, 1, otpOfA);
        assertThat(crossed.statusCode()).isEqualTo(403);
        assertThat(json.readTree(crossed.body()).path("reason").asString()).isEqualTo("otp-refused");

        assertThat(fabric.awaitState(b, InstanceState.FAILED, 1).stateReason()).contains("one-time password refused");
        fabric.awaitState(a, InstanceState.RUNNING, 1);
    }

    @Test
    void aReplayedPasswordIsRefusedAndTheMemberKeepsRunning() throws Exception {
        String id = spawnQueue("DIRECT");
        String otp = FabricUnderTest.environmentOf(pidOf(id)).get("FABRIC_OTP");
        fabric.awaitState(id, InstanceState.RUNNING, 1);

        HttpResponse<String> replay = redeem(id, 1, otp);
        assertThat(replay.statusCode()).isEqualTo(403);
        assertThat(json.readTree(replay.body()).path("reason").asString()).isEqualTo("otp-refused");
        assertThat(replay.body()).doesNotContain("ciphertext");
        assertThat(fabric.registry.get(id).state()).isEqualTo(InstanceState.RUNNING);
    }

    @Test
    void anExpiredPasswordFailsTheBootstrapAndReleasesNoKeys(@TempDir Path other) throws Exception {
        // A spawner whose passwords expire before any JVM can start and redeem them.
        try (FabricUnderTest hasty = new FabricUnderTest(other, "--fabric.spawner.otp-ttl=1ms", PATIENT)) {
            hasty.startSpawner();
            ResponseEntity<JsonNode> answer = hasty.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("type", "queue")).retrieve().toEntity(JsonNode.class);
            String id = answer.getBody().path("id").asString();

            ServiceInstance failed = hasty.awaitState(id, InstanceState.FAILED, 1);
            assertThat(failed.stateReason()).contains("one-time password refused: expired; fabric keys not released");
            assertThat(FabricUnderTest.log(hasty.memberLog(id))).contains("exits with status 82").contains("otp-refused");
            assertThat(failed.endpoints()).doesNotContainKey("queue");
        }
    }

    @Test
    void aStoppedMemberEndsAndIsRecordedStopped() throws Exception {
        String id = spawnQueue("DIRECT");
        fabric.awaitState(id, InstanceState.RUNNING, 1);
        long pid = pidOf(id);

        ResponseEntity<Void> stopped = fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
        assertThat(stopped.getStatusCode().value()).isEqualTo(204);
        assertThat(fabric.registry.get(id).state()).isEqualTo(InstanceState.STOPPED);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertProblem(fabric.spawnerClient().post().uri("/api/v1/members/{id}/restart", id).retrieve().toEntity(JsonNode.class),
                409, "member-stopped");
        // Incarnations count from 1: a smaller one is no condition, not "whichever it is at".
        for (long incarnation : new long[] {0, -1, -5}) {
            assertProblem(fabric.spawnerClient().post().uri("/api/v1/members/{id}/restart?incarnation={n}", id, incarnation).retrieve()
                    .toEntity(JsonNode.class), 400, "invalid-request");
        }
        assertProblem(fabric.spawnerClient().get().uri("/api/v1/members/nobody").retrieve().toEntity(JsonNode.class),
                404, "unknown-member");
        // An id of another shape is refused with the rule, not looked up.
        assertProblem(fabric.spawnerClient().get().uri("/api/v1/members/-dash").retrieve().toEntity(JsonNode.class),
                400, "invalid-request");
    }

    @Test
    void theSpawnerAndItsMembersStartFromTheTestsAotCaches() throws Exception {
        assumeFalse("off".equals(System.getProperty("fabric.test.aot")), "-Dfabric.test.aot=off: the plain jar");
        String id = spawnQueue("DIRECT");
        fabric.awaitState(id, InstanceState.RUNNING, 1);
        // What the JVMs mapped, not what they were told: a cache the JVM refuses is ignored without a word.
        assertThat(Files.readString(Path.of("/proc", Long.toString(fabric.spawnerPid()), "maps")))
                .as("the spawner maps its cache").contains("tests-spawner.aot");
        assertThat(Files.readString(Path.of("/proc", Long.toString(pidOf(id)), "maps")))
                .as("the member maps the members' cache").contains("tests-member.aot");
        fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
    }

    @Test
    void aSpawnedMemberRunsSpringsAotProcessedContextAndTheSpawnerItsOwn() throws Exception {
        String id = spawnQueue("DIRECT");
        fabric.awaitState(id, InstanceState.RUNNING, 1);
        // Spring Boot's start line: the member runs the bean definitions generated for the member profile at
        // build time (MemberJvm's -Dspring.aot.enabled=true); the spawner, started without it, evaluates its own.
        assertThat(FabricUnderTest.log(fabric.memberLog(id))).contains("Starting AOT-processed SpawnerApplication");
        assertThat(FabricUnderTest.log(fabric.spawnerLog())).contains("Starting SpawnerApplication").doesNotContain("AOT-processed");
        fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
    }

    static long pidOf(String id) {
        return Long.parseLong(fabric.registry.get(id).metadata().get("pid"));
    }

    static HttpResponse<String> redeem(String id, long incarnation, String otp) throws Exception {
        String publicKey = Base64.getEncoder().encodeToString(KeySealing.newEphemeralKeyPair().getPublic().getEncoded());
        String body = json.writeValueAsString(Map.of("serviceId", id, "incarnation", incarnation, "otp", otp,
                "publicKey", publicKey, "managementUrl", "http://127.0.0.1:1"));
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(fabric.spawnerUrl() + "/bootstrap/v1/redeem"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static void assertProblem(ResponseEntity<JsonNode> answer, int status, String reason) {
        assertThat(answer.getStatusCode().value()).as("%s", answer.getBody()).isEqualTo(status);
        assertThat(answer.getBody().path("reason").asString()).as("%s", answer.getBody()).isEqualTo(reason);
    }

    static List<String> reasons(List<StateTransition> history) {
        return history.stream().map(StateTransition::reason).toList();
    }
}
