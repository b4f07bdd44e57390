package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.stream.HeartbeatChannel;
import dev.fabric.core.registry.stream.HeartbeatFrame;
import dev.fabric.core.registry.stream.HeartbeatStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The registry's API, as a member and an operator meet it. Runs against every database the registry
 * supports: a subclass starts the application on one.
 */
abstract class RegistryApiContract {

    static final FabricKeys KEYS = FabricKeys.generate();
    static final Path KEY_DIR;

    static {
        try {
            KEY_DIR = Files.createTempDirectory("fabric-keys");
            Files.delete(KEY_DIR);
            KEYS.writeTo(KEY_DIR);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Heartbeat streams' sessions end this soon, so a test sees one expire. */
    static final Duration SESSION_TTL = Duration.ofSeconds(3);

    /** Short heartbeats so failure detection happens within a test. */
    static final String[] FAST_HEARTBEATS = {"fabric.registry.heartbeat.interval=200ms", "fabric.registry.heartbeat.suspect-after=3",
            "fabric.registry.heartbeat.dead-after=5", "fabric.registry.heartbeat.detector-period=50ms",
            "fabric.registry.heartbeat.session-ttl=" + SESSION_TTL.toMillis() + "ms"};


    @LocalServerPort
    int port;

    RegistryClient registry;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void client() {
        registry = new RegistryClient("http://127.0.0.1:" + port, KEYS);
    }

    static String id() {
        return "i-" + UUID.randomUUID().toString().substring(0, 8);
    }

    HttpResponse<String> raw(String method, String path, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A signed raw request, so a test can send bytes no JSON client would. */
    HttpResponse<String> signedRaw(String method, String path, String body) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + path);
        Map<String, String> headers = new java.util.HashMap<>(new RequestSigner(KEYS, Clock.systemUTC())
                .sign(method, uri, Map.of(), body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8)));
        headers.put("Content-Type", "application/json");
        return raw(method, path, body, headers);
    }

    static void assertProblem(RegistryClient.Answer answer, int status, String reason) {
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(status);
        assertThat(answer.reason()).isEqualTo(reason);
        assertThat(answer.body().path("detail").asString()).isNotBlank();
    }

    static void assertProblem(HttpResponse<String> response, int status, String reason) {
        assertProblem(new RegistryClient.Answer(response.statusCode(), RegistryClient.JSON.readTree(response.body())), status, reason);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
    }

    @Test
    void registersAndReadsAnInstance() {
        String id = id();
        RegistryClient.Answer created = registry.post("/api/v1/instances", Map.of("id", id, "type", "queue", "name", "work-queue",
                "parentId", "spawner-1", "connectivity", "FIREWALL_FROM_SERVICE",
                "endpoints", Map.of("management", "http://10.0.0.5:9000", "service", "http://10.0.0.5:9100"),
                "metadata", Map.of("role", "queue")));
        assertThat(created.status()).isEqualTo(201);
        JsonNode instance = registry.get("/api/v1/instances/" + id).body();
        assertThat(instance.path("state").asString()).isEqualTo("RUNNING");
        assertThat(instance.path("incarnation").asLong()).isEqualTo(1);
        assertThat(instance.path("type").asString()).isEqualTo("queue");
        assertThat(instance.path("name").asString()).isEqualTo("work-queue");
        assertThat(instance.path("parentId").asString()).isEqualTo("spawner-1");
        assertThat(instance.path("connectivity").asString()).isEqualTo("FIREWALL_FROM_SERVICE");
        assertThat(instance.path("endpoints").path("service").asString()).isEqualTo("http://10.0.0.5:9100");
        assertThat(instance.path("metadata").path("role").asString()).isEqualTo("queue");
    }

    @Test
    void listsWithFilters() {
        String parent = id();
        String a = id();
        String b = id();
        registry.post("/api/v1/instances", Map.of("id", a, "type", "bridge", "parentId", parent));
        registry.post("/api/v1/instances", Map.of("id", b, "type", "agent", "parentId", parent, "state", "PENDING"));
        registry.put("/api/v1/instances/" + b + "/sessions/s-" + parent, null);

        JsonNode byParent = registry.get("/api/v1/instances?parent=" + parent).body();
        assertThat(byParent.path("revision").asLong()).isPositive();
        assertThat(ids(byParent)).containsExactlyInAnyOrder(a, b);
        assertThat(ids(registry.get("/api/v1/instances?parent=" + parent + "&type=bridge").body())).containsExactly(a);
        assertThat(ids(registry.get("/api/v1/instances?parent=" + parent + "&state=PENDING").body())).containsExactly(b);
        assertThat(ids(registry.get("/api/v1/instances?session=s-" + parent).body())).containsExactly(b);
    }

    /**
     * A history without what the failure detector did meanwhile: these tests send no heartbeats, and with
     * {@link #FAST_HEARTBEATS} a loaded machine can leave a RUNNING instance silent long enough to be
     * suspected (and a later report then revives it) between two of the test's own requests.
     */
    static List<JsonNode> withoutDetectorMoves(JsonNode history) {
        List<JsonNode> kept = new ArrayList<>();
        for (JsonNode t : history) {
            boolean detector = List.of("SUSPECT", "DEAD").contains(t.path("to").asString())
                    || List.of("SUSPECT", "DEAD").contains(t.path("from").asString(""));
            if (!detector) {
                kept.add(t);
            }
        }
        return kept;
    }

    static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.path("instances").forEach(i -> ids.add(i.path("id").asString()));
        return ids;
    }

    @Test
    void restartUnderTheSameIdRaisesTheIncarnationAndStaleOnesAreRefused() {
        String id = id();
        registry.register(id, "queue", 1, "RUNNING");
        RegistryClient.Answer restarted = registry.register(id, "queue", 2, "BOOTSTRAPPING");
        assertThat(restarted.status()).isEqualTo(200);
        assertThat(restarted.body().path("incarnation").asLong()).isEqualTo(2);

        // The zombie of incarnation 1 can neither register, heartbeat, nor change state.
        assertProblem(registry.register(id, "queue", 1, "RUNNING"), 409, "stale-incarnation");
        assertProblem(registry.heartbeat(id, 1), 409, "stale-incarnation");
        assertProblem(registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "FAILED", "incarnation", 1)), 409,
                "stale-incarnation");
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id, "type", "queue")), 409, "incarnation-required");
        assertThat(registry.get("/api/v1/instances/" + id).body().path("incarnation").asLong()).isEqualTo(2);
    }

    @Test
    void transitionsAreEnforcedAndRecordedWithReasons() {
        String id = id();
        registry.register(id, "queue", 1, "PENDING");
        assertThat(registry.put("/api/v1/instances/" + id + "/state",
                Map.of("state", "BOOTSTRAPPING", "incarnation", 1, "reason", "one-time password redeemed")).status()).isEqualTo(200);
        assertThat(registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "RUNNING", "incarnation", 1,
                "endpoints", Map.of("queue", "http://127.0.0.1:9200"))).body().path("endpoints").path("queue").asString())
                .isEqualTo("http://127.0.0.1:9200");
        assertProblem(registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "PENDING", "incarnation", 1)), 409,
                "illegal-transition");
        assertProblem(registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "RUNNING", "incarnation", 7)), 409,
                "unknown-incarnation");

        List<JsonNode> history = withoutDetectorMoves(registry.get("/api/v1/instances/" + id + "/history").body());
        List<String> moves = new ArrayList<>();
        history.forEach(t -> moves.add(t.path("from").asString("") + ">" + t.path("to").asString()));
        assertThat(moves).containsExactly(">PENDING", "PENDING>BOOTSTRAPPING", "BOOTSTRAPPING>RUNNING");
        assertThat(history.get(1).path("reason").asString()).isEqualTo("one-time password redeemed");
        assertThat(history.get(1).path("at").asString()).isNotBlank();
    }

    @Test
    void bootstrapStepsAreRecordedInTheHistoryButRunningRepeatsAreNot() {
        String id = id();
        registry.register(id, "queue", 1, "PENDING");
        Map<String, Object> step = Map.of("state", "PENDING", "incarnation", 1, "reason", "one-time password issued");
        assertThat(registry.put("/api/v1/instances/" + id + "/state", step).body().path("stateReason").asString())
                .isEqualTo("one-time password issued");
        registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "BOOTSTRAPPING", "incarnation", 1, "reason", "launched"));
        registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "BOOTSTRAPPING", "incarnation", 1, "reason", "configured"));
        registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "RUNNING", "incarnation", 1));
        registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "RUNNING", "incarnation", 1, "reason", "again"));

        List<String> moves = new ArrayList<>();
        withoutDetectorMoves(registry.get("/api/v1/instances/" + id + "/history").body())
                .forEach(t -> moves.add(t.path("to").asString() + ":" + t.path("reason").asString()));
        assertThat(moves).containsExactly("PENDING:registered as incarnation 1", "PENDING:one-time password issued",
                "BOOTSTRAPPING:launched", "BOOTSTRAPPING:configured", "RUNNING:reported RUNNING");
    }

    @Test
    void aRegistrationThatChangesTheSupervisorIsRecordedNamingTheAdopter() {
        String id = id();
        assertThat(registry.post("/api/v1/instances", Map.of("id", id, "type", "queue", "incarnation", 1, "state", "RUNNING",
                "parentId", "member-a")).status()).isEqualTo(201);
        registry.post("/api/v1/instances", Map.of("id", id, "type", "queue", "incarnation", 1, "state", "RUNNING",
                "metadata", Map.of("supervisor", "spawner-root")));
        // The same supervisor again is no event.
        registry.post("/api/v1/instances", Map.of("id", id, "type", "queue", "incarnation", 1, "state", "RUNNING",
                "metadata", Map.of("supervisor", "spawner-root")));

        JsonNode instance = registry.get("/api/v1/instances/" + id).body();
        assertThat(instance.path("parentId").asString()).isEqualTo("member-a");
        assertThat(instance.path("metadata").path("supervisor").asString()).isEqualTo("spawner-root");
        List<String> moves = new ArrayList<>();
        withoutDetectorMoves(registry.get("/api/v1/instances/" + id + "/history").body())
                .forEach(t -> moves.add(t.path("to").asString() + ":" + t.path("reason").asString()));
        assertThat(moves).containsExactly("RUNNING:registered as incarnation 1",
                "RUNNING:adopted by spawner-root (was supervised by member-a)");
    }

    @Test
    void heartbeatsKeepAnInstanceRunningAndSilenceMakesItSuspectThenDead() {
        String silent = id();
        String alive = id();
        registry.register(silent, "agent", 1, "RUNNING");
        registry.register(alive, "agent", 1, "RUNNING");
        Instant until = Instant.now().plusSeconds(20);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(registry.heartbeat(alive, 1).status()).isEqualTo(204);
            assertThat(registry.get("/api/v1/instances/" + silent).body().path("state").asString()).isEqualTo("DEAD");
        });
        assertThat(Instant.now()).isBefore(until);
        assertThat(registry.get("/api/v1/instances/" + alive).body().path("state").asString()).isEqualTo("RUNNING");
        List<String> states = new ArrayList<>();
        registry.get("/api/v1/instances/" + silent + "/history").body().forEach(t -> states.add(t.path("to").asString()));
        assertThat(states).containsExactly("RUNNING", "SUSPECT", "DEAD");
        assertProblem(registry.heartbeat(silent, 1), 409, "not-running");
        // Its spawner restarts it under the same id; it runs again.
        assertThat(registry.register(silent, "agent", 2, "RUNNING").status()).isEqualTo(200);
        assertThat(registry.heartbeat(silent, 2).status()).isEqualTo(204);
    }

    HeartbeatChannel channel(String id, long incarnation) {
        return HeartbeatChannel.open(http, URI.create("http://127.0.0.1:" + port), KEYS, id, incarnation, Duration.ofSeconds(20));
    }

    static HeartbeatFrame frame(long seq, long incarnation, String id) {
        return new HeartbeatFrame(seq, System.currentTimeMillis(), incarnation, id);
    }

    static void assertRefused(ThrowingCallable call, int status, String reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(RegistryCallException.class, e -> {
            assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
            assertThat(e.reason()).isEqualTo(reason);
        });
    }

    @Test
    void aHeartbeatStreamRecordsEachHeartbeatBeforeAcknowledgingIt() {
        String id = id();
        registry.register(id, "agent", 1, "RUNNING");
        try (HeartbeatStream stream = new HeartbeatStream(URI.create("http://127.0.0.1:" + port), KEYS, id, 1, Duration.ofSeconds(20),
                Clock.systemUTC())) {
            for (int i = 0; i < 3; i++) {
                Instant before = Instant.now();
                stream.beat();
                Instant recorded = Instant.parse(registry.get("/api/v1/instances/" + id).body().path("lastHeartbeatAt").asString());
                assertThat(recorded).isAfterOrEqualTo(before.minusMillis(5));
            }
            assertThat(stream.isOpen()).isTrue();
        }
        assertThat(registry.get("/api/v1/instances/" + id).body().path("state").asString()).isEqualTo("RUNNING");
    }

    /** What a test sends on a member's stream to be refused. */
    interface Refused {
        void send(HeartbeatChannel channel, String id) throws Exception;
    }

    /**
     * A RUNNING member (incarnation 1) opens a stream and has {@code accepted} heartbeats (sequence 1,
     * 2...) acknowledged; then what {@code refused} sends is refused with the status and reason, and
     * the stream is closed after it. Returns the member's id.
     */
    String assertStreamRefuses(int accepted, Refused refused, int status, String reason) {
        String id = id();
        registry.register(id, "agent", 1, "RUNNING");
        try (HeartbeatChannel channel = channel(id, 1)) {
            for (int seq = 1; seq <= accepted; seq++) {
                channel.beat(frame(seq, 1, id));
            }
            assertRefused(() -> refused.send(channel, id), status, reason);
            assertRefused(() -> channel.beat(frame(accepted + 2, 1, id)), 0, "unreachable");
        }
        return id;
    }

    @Test
    void aForgedMacIsRefusedAndClosesTheStream() {
        assertStreamRefuses(1, (channel, id) -> channel.send(frame(2, 1, id).seal(macWithAnotherKey()), 2), 401, "bad-mac");
    }

    @Test
    void aReplayedSequenceNumberIsRefused() {
        String id = assertStreamRefuses(2, (channel, member) -> channel.beat(frame(2, 1, member)), 401, "replayed");
        try (HeartbeatChannel channel = channel(id, 1)) {
            channel.beat(frame(5, 1, id));
            assertRefused(() -> channel.beat(frame(4, 1, id)), 401, "replayed");
        }
    }

    @Test
    void aStaleIncarnationIsRefusedOnTheStreamAndAtItsHandshake() {
        // The member restarts as incarnation 2; its old stream is a zombie's.
        String id = assertStreamRefuses(1, (zombie, member) -> {
            registry.register(member, "agent", 2, "RUNNING");
            zombie.beat(frame(2, 1, member));
        }, 409, "stale-incarnation");
        assertRefused(() -> channel(id, 1), 409, "stale-incarnation");
        assertRefused(() -> channel(id, 3), 409, "unknown-incarnation");
        try (HeartbeatChannel successor = channel(id, 2)) {
            successor.beat(frame(1, 2, id));
        }
    }

    @Test
    void anExpiredSessionIsRefusedAndTheStreamOpensANewOne() throws Exception {
        String id = id();
        registry.register(id, "agent", 1, "RUNNING");
        try (HeartbeatChannel channel = channel(id, 1);
             HeartbeatStream stream = new HeartbeatStream(URI.create("http://127.0.0.1:" + port), KEYS, id, 1, Duration.ofSeconds(20),
                     Clock.systemUTC())) {
            channel.beat(frame(1, 1, id));
            stream.beat();
            Instant expired = Instant.now().plus(SESSION_TTL).plusMillis(300);
            while (Instant.now().isBefore(expired)) {
                // Signed heartbeats keep the instance RUNNING meanwhile (the test's DEAD threshold is 1 s).
                assertThat(registry.heartbeat(id, 1).status()).isEqualTo(204);
                Thread.sleep(100);
            }
            assertRefused(() -> channel.beat(frame(2, 1, id)), 401, "session-expired");
            stream.beat();
        }
    }

    @Test
    void aMemberCannotHeartbeatForAnotherMembersIdOnItsStream() {
        String other = id();
        registry.register(other, "agent", 1, "RUNNING");
        String before = registry.get("/api/v1/instances/" + other).body().path("lastHeartbeatAt").asString();
        assertStreamRefuses(0, (channel, mine) -> channel.beat(frame(1, 1, other)), 403, "wrong-member");
        assertThat(registry.get("/api/v1/instances/" + other).body().path("lastHeartbeatAt").asString()).isEqualTo(before);
    }

    @Test
    void aHeartbeatFromAnotherTimeIsRefused() {
        assertStreamRefuses(0, (channel, id) -> channel.beat(new HeartbeatFrame(1, System.currentTimeMillis() - 3_600_000, 1, id)),
                401, "expired");
    }

    @Test
    void heartbeatStreamHandshakesAreSignedAndNameARunningInstance() throws Exception {
        String id = id();
        assertRefused(() -> channel(id, 1), 404, "unknown-instance");
        registry.register(id, "agent", 1, "PENDING");
        assertRefused(() -> channel(id, 1), 409, "not-running");
        HttpResponse<String> unsigned = raw("GET", "/api/v1/instances/" + id + "/heartbeat-stream?incarnation=1&key=AAAA",
                null, Map.of());
        assertProblem(unsigned, 401, "unsigned");
        registry.register(id, "agent", 1, "RUNNING");
        HttpResponse<String> badKey = signedRaw("GET", "/api/v1/instances/" + id + "/heartbeat-stream?incarnation=1&key=AAAA", null);
        assertThat(badKey.statusCode()).isEqualTo(400);
    }

    static Mac macWithAnotherKey() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anUnreachableReportMakesASuspectThatAHeartbeatClears() {
        String id = id();
        registry.register(id, "bridge", 1, "RUNNING");
        RegistryClient.Answer reported = registry.post("/api/v1/instances/" + id + "/reports",
                Map.of("kind", "UNREACHABLE", "reporter", "gateway-1", "reason", "connection refused"));
        assertThat(reported.body().path("state").asString()).isEqualTo("SUSPECT");
        assertThat(reported.body().path("stateReason").asString()).contains("gateway-1").contains("connection refused");
        assertThat(registry.heartbeat(id, 1).status()).isEqualTo(204);
        assertThat(registry.get("/api/v1/instances/" + id).body().path("state").asString()).isEqualTo("RUNNING");
    }

    @Test
    void aDyingMemberReportsItsOwnFailureAndALostOneCannotComeBack() {
        String id = id();
        registry.register(id, "queue", 1, "RUNNING");
        assertProblem(registry.post("/api/v1/instances/" + id + "/reports", Map.of("kind", "FAILED")), 400, "incarnation-required");
        RegistryClient.Answer failed = registry.post("/api/v1/instances/" + id + "/reports",
                Map.of("kind", "FAILED", "incarnation", 1, "reason", "journal corrupt"));
        assertThat(failed.body().path("state").asString()).isEqualTo("FAILED");
        assertProblem(registry.heartbeat(id, 1), 409, "not-running");
        assertThat(registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "LOST", "incarnation", 1, "reason",
                "state not recoverable")).body().path("state").asString()).isEqualTo("LOST");
        assertProblem(registry.register(id, "queue", 2, "RUNNING"), 409, "instance-lost");
    }

    @Test
    void sessionsAreRegisteredLookedUpAndDeregistered() {
        String a = id();
        String b = id();
        String session = "sess-" + a;
        registry.register(a, "queue", 1, "RUNNING");
        registry.register(b, "bridge", 1, "RUNNING");
        assertThat(registry.put("/api/v1/instances/" + a + "/sessions/" + session, null).status()).isEqualTo(201);
        assertThat(registry.put("/api/v1/instances/" + a + "/sessions/" + session, null).status()).isEqualTo(204);
        registry.put("/api/v1/instances/" + b + "/sessions/" + session, null);
        assertThat(ids(registry.get("/api/v1/sessions/" + session).body())).containsExactlyInAnyOrder(a, b);
        assertThat(registry.get("/api/v1/instances/" + a + "/sessions").body().get(0).asString()).isEqualTo(session);

        assertThat(registry.delete("/api/v1/instances/" + b + "/sessions/" + session).status()).isEqualTo(204);
        assertThat(ids(registry.get("/api/v1/sessions/" + session).body())).containsExactly(a);
        assertProblem(registry.delete("/api/v1/instances/" + b + "/sessions/" + session), 404, "unknown-session");
        assertProblem(registry.put("/api/v1/instances/nobody-" + a + "/sessions/" + session, null), 404, "unknown-instance");
    }

    @Test
    void deregisteredInstancesAreGoneButTheirHistoryStays() {
        String id = id();
        registry.register(id, "queue", 1, "RUNNING");
        assertThat(registry.delete("/api/v1/instances/" + id).status()).isEqualTo(204);
        assertProblem(registry.get("/api/v1/instances/" + id), 404, "unknown-instance");
        JsonNode history = registry.get("/api/v1/instances/" + id + "/history").body();
        assertThat(history.get(history.size() - 1).path("reason").asString()).isEqualTo("deregistered");
        assertProblem(registry.delete("/api/v1/instances/" + id), 404, "unknown-instance");
    }

    @Test
    void watchStreamsEveryChangeAfterTheListsRevisionAndResumes() throws Exception {
        long revision = registry.get("/api/v1/instances").body().path("revision").asLong();
        String id = id();
        registry.register(id, "queue", 1, "RUNNING");
        registry.post("/api/v1/instances/" + id + "/reports", Map.of("kind", "UNREACHABLE"));
        registry.put("/api/v1/instances/" + id + "/sessions/w-" + id, null);
        registry.delete("/api/v1/instances/" + id);

        // Only this instance's changes: the failure detector may move other tests' instances meanwhile.
        java.util.function.Predicate<String[]> mine = e -> e[2].contains("\"" + id + "\"");
        List<String[]> events = readEvents("/api/v1/watch?since=" + revision, 4, null, mine);
        assertThat(events).extracting(e -> e[1]).containsExactly("REGISTERED", "STATE", "SESSION_ADDED", "DEREGISTERED");
        assertThat(events).allSatisfy(e -> assertThat(e[2]).contains(id).contains("\"at\":"));
        List<Long> revisions = events.stream().map(e -> Long.parseLong(e[0])).toList();
        assertThat(revisions).isSorted().doesNotHaveDuplicates();

        // Resuming from the second event replays the rest, by query or by Last-Event-ID.
        assertThat(readEvents("/api/v1/watch", 2, Long.toString(revisions.get(1)), mine)).extracting(e -> e[1])
                .containsExactly("SESSION_ADDED", "DEREGISTERED");
        assertThat(readEvents("/api/v1/watch?since=" + revisions.get(2), 1, null, mine)).extracting(e -> e[1])
                .containsExactly("DEREGISTERED");
    }

    List<String[]> readEvents(String path, int n, String lastEventId, java.util.function.Predicate<String[]> keep) throws Exception {
        return registry.events(path, n, lastEventId, keep);
    }

    @Test
    void aCompactedRevisionAsksTheWatcherToListAgain() {
        assertProblem(registry.get("/api/v1/watch?since=-5"), 400, "invalid-revision");
    }

    @Test
    void aRevisionNotYetMadeIsRefusedRatherThanWatchedInSilence() {
        RegistryClient.Answer future = registry.get("/api/v1/watch?since=999999999999");
        assertProblem(future, 400, "invalid-revision");
        assertThat(future.body().path("detail").asString()).contains("999999999999", "is after the registry's current revision");
    }

    @Test
    void aReasonTooLongForItsColumnIsStoredTruncatedNotA500() {
        String id = id();
        registry.register(id, "queue", 1, "RUNNING");
        RegistryClient.Answer failed = registry.post("/api/v1/instances/" + id + "/reports",
                Map.of("kind", "FAILED", "incarnation", 1, "reporter", "r".repeat(128), "reason", "x".repeat(1024)));
        assertThat(failed.status()).as(failed.body().toString()).isEqualTo(200);
        String reason = failed.body().path("stateReason").asString();
        assertThat(reason).hasSize(1024).startsWith("failed, reported by rrr").endsWith("x [truncated]");
        JsonNode history = registry.get("/api/v1/instances/" + id + "/history").body();
        assertThat(history.get(history.size() - 1).path("reason").asString()).isEqualTo(reason);
    }

    @Test
    void endpointsAndMetadataBeyondTheirRoomAreRefusedAndNothingChanges() {
        Map<String, String> wide = new java.util.LinkedHashMap<>();
        for (int n = 0; n < 32; n++) {
            wide.put("e" + n, "http://" + "h".repeat(490) + ":" + n);
        }
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "endpoints", wide)), 400, "too-large");
        Map<String, String> metadata = new java.util.LinkedHashMap<>();
        for (int n = 0; n < 40; n++) {
            metadata.put("m" + n, "v".repeat(1000));
        }
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "metadata", metadata)), 400, "too-large");

        // Each request within its own limits, but the merge of both is not.
        String id = id();
        Map<String, String> first = new java.util.LinkedHashMap<>();
        Map<String, String> second = new java.util.LinkedHashMap<>();
        for (int n = 0; n < 20; n++) {
            first.put("a" + n, "http://10.0.0.5:" + (9000 + n));
            second.put("b" + n, "http://10.0.0.5:" + (9100 + n));
        }
        assertThat(registry.post("/api/v1/instances", Map.of("id", id, "type", "queue", "state", "BOOTSTRAPPING", "incarnation", 1,
                "endpoints", first)).status()).isEqualTo(201);
        assertProblem(registry.put("/api/v1/instances/" + id + "/state", Map.of("state", "RUNNING", "incarnation", 1,
                "endpoints", second)), 400, "too-large");
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id, "type", "queue", "state", "RUNNING", "incarnation", 1,
                "endpoints", second)), 400, "too-large");
        JsonNode unchanged = registry.get("/api/v1/instances/" + id).body();
        assertThat(unchanged.path("state").asString()).isEqualTo("BOOTSTRAPPING");
        assertThat(unchanged.path("endpoints").size()).isEqualTo(20);
    }

    @Test
    void listAndHistoryComeInPagesLinkedByNext() throws Exception {
        String parent = id();
        List<String> registered = new ArrayList<>();
        for (int n = 0; n < 5; n++) {
            String id = parent + "-" + n;
            // PENDING: the failure detector leaves it alone, so no change of it reaches another test's watch.
            registry.post("/api/v1/instances", Map.of("id", id, "type", "agent", "parentId", parent, "state", "PENDING"));
            registered.add(id);
        }
        List<String> seen = new ArrayList<>();
        String path = "/api/v1/instances?parent=" + parent + "&limit=2";
        int pages = 0;
        while (path != null) {
            HttpResponse<String> page = signedRaw("GET", path, null);
            assertThat(page.statusCode()).isEqualTo(200);
            JsonNode list = RegistryClient.JSON.readTree(page.body());
            assertThat(list.path("instances").size()).isLessThanOrEqualTo(2);
            seen.addAll(ids(list));
            path = next(page);
            pages++;
        }
        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactlyElementsOf(registered);

        String id = registered.getFirst();
        for (String step : List.of("BOOTSTRAPPING", "BOOTSTRAPPING", "RUNNING", "STOPPED")) {
            registry.put("/api/v1/instances/" + id + "/state", Map.of("state", step, "incarnation", 1, "reason", "step to " + step));
        }
        HttpResponse<String> first = signedRaw("GET", "/api/v1/instances/" + id + "/history?limit=3", null);
        JsonNode firstPage = RegistryClient.JSON.readTree(first.body());
        assertThat(firstPage.size()).isEqualTo(3);
        HttpResponse<String> second = signedRaw("GET", next(first), null);
        JsonNode secondPage = RegistryClient.JSON.readTree(second.body());
        assertThat(secondPage.size()).isEqualTo(2);
        assertThat(secondPage.get(0).path("seq").asLong()).isEqualTo(4);
        assertThat(next(second)).isNull();

        assertProblem(signedRaw("GET", "/api/v1/instances?limit=1001", null), 400, "invalid-limit");
        assertProblem(signedRaw("GET", "/api/v1/instances/" + id + "/history?limit=0", null), 400, "invalid-limit");
    }

    /** The path of a {@code Link: <...>; rel="next"} header, or null on the last page. */
    static String next(HttpResponse<String> page) {
        return page.headers().firstValue("Link")
                .filter(link -> link.contains("rel=\"next\""))
                .map(link -> URI.create(link.substring(link.indexOf('<') + 1, link.indexOf('>'))))
                .map(uri -> uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()))
                .orElse(null);
    }

    @Test
    void malformedJsonIsABadRequest() throws Exception {
        assertProblem(signedRaw("POST", "/api/v1/instances", "{\"id\": \"x\", \"type\": "), 400, "malformed-json");
    }

    @Test
    void unknownFieldsAreRefused() {
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "colour", "blue")), 400, "unknown-field");
    }

    @Test
    void missingRequiredFieldsAreRefused() {
        RegistryClient.Answer answer = registry.post("/api/v1/instances", Map.of("id", id()));
        assertProblem(answer, 400, "invalid-request");
        assertThat(answer.body().path("detail").asString()).contains("type");
        assertProblem(registry.put("/api/v1/instances/" + id() + "/state", Map.of("state", "RUNNING")), 400, "invalid-request");
        assertProblem(registry.post("/api/v1/instances/" + id() + "/heartbeat", null), 400, "invalid-request");
    }

    @Test
    void malformedValuesAreRefused() {
        assertProblem(registry.post("/api/v1/instances", Map.of("id", "bad id!", "type", "queue")), 400, "invalid-request");
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "state", "SLEEPING")), 400,
                "invalid-request");
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "state", "DEAD")), 400, "invalid-state");
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "incarnation", -1)), 400, "invalid-request");
        assertProblem(registry.get("/api/v1/instances?state=SLEEPING"), 400, "invalid-request");
        // A value of the wrong kind is refused, not converted: a number for text, text for a number.
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", 5)), 400, "invalid-request");
        assertProblem(registry.post("/api/v1/instances", Map.of("id", id(), "type", "queue", "incarnation", "1")), 400,
                "invalid-request");
    }

    @Test
    void oversizedBodiesAreRefusedWith413() throws Exception {
        String big = "{\"id\":\"big\",\"type\":\"queue\",\"name\":\"" + "x".repeat(70_000) + "\"}";
        assertProblem(signedRaw("POST", "/api/v1/instances", big), 413, "body-too-large");
    }

    @Test
    void anIdOfAnotherShapeInAPathIsRefusedWithTheRuleNotLookedUp() {
        for (String bad : List.of("bad$id", "-dash", "x".repeat(129))) {
            for (RegistryClient.Answer answer : List.of(registry.get("/api/v1/instances/" + bad),
                    registry.get("/api/v1/instances/" + bad + "/history"), registry.get("/api/v1/instances/" + bad + "/sessions"),
                    registry.put("/api/v1/instances/" + bad + "/state", Map.of("state", "RUNNING", "incarnation", 1)),
                    registry.post("/api/v1/instances/" + bad + "/heartbeat?incarnation=1", null),
                    registry.put("/api/v1/instances/" + id() + "/sessions/" + bad, null), registry.delete("/api/v1/instances/" + bad))) {
                assertProblem(answer, 400, "invalid-request");
                assertThat(answer.body().path("detail").asString()).contains(Ids.MESSAGE);
            }
        }
    }

    @Test
    void unknownIdsAreNotFound() {
        assertProblem(registry.get("/api/v1/instances/" + id()), 404, "unknown-instance");
        assertProblem(registry.heartbeat(id(), 1), 404, "unknown-instance");
        assertProblem(registry.get("/api/v1/instances/" + id() + "/history"), 404, "unknown-instance");
    }

    @Test
    void unsignedTamperedExpiredAndReplayedRequestsAreRefused() throws Exception {
        assertProblem(raw("GET", "/api/v1/instances", null, Map.of()), 401, "unsigned");

        URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/instances");
        String body = "{\"id\":\"" + id() + "\",\"type\":\"queue\"}";
        Map<String, String> signature = new RequestSigner(KEYS, Clock.systemUTC()).sign("POST", uri, Map.of(), body.getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = new java.util.HashMap<>(signature);
        headers.put("Content-Type", "application/json");
        assertProblem(raw("POST", "/api/v1/instances", body.replace("queue", "agent"), headers), 401, "digest-mismatch");
        assertThat(raw("POST", "/api/v1/instances", body, headers).statusCode()).isEqualTo(201);
        assertProblem(raw("POST", "/api/v1/instances", body, headers), 401, "replayed");

        Clock past = Clock.fixed(Instant.now().minusSeconds(120), ZoneOffset.UTC);
        Map<String, String> old = new RequestSigner(KEYS, past).sign("GET", uri, Map.of(), new byte[0]);
        assertProblem(raw("GET", "/api/v1/instances", null, old), 401, "expired");
    }

    @Test
    void healthProbesAndMetricsAreOpen() throws Exception {
        assertThat(raw("GET", "/actuator/health/liveness", null, Map.of()).statusCode()).isEqualTo(200);
        assertThat(raw("GET", "/actuator/health/readiness", null, Map.of()).statusCode()).isEqualTo(200);
        registry.heartbeat(id(), 1);
        String metrics = raw("GET", "/actuator/prometheus", null, Map.of()).body();
        assertThat(metrics).contains("fabric_registry_instances").contains("fabric_problems_total")
                .contains("fabric_registry_detector_lag");
        assertThat(raw("GET", "/v3/api-docs", null, Map.of()).body()).contains("/api/v1/instances/{id}/heartbeat");
    }
}
