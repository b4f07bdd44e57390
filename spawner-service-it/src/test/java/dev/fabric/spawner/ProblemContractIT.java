package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One problem vocabulary: the same bad requests sent to the registry, a spawner and a member (its
 * management API, and the spawn API every member serves) get answers of the same shape, with the
 * same reasons (docs/problems.md).
 */
class ProblemContractIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    static Map<String, Server> servers;
    static final JsonMapper json = JsonMapper.builder().build();
    static final HttpClient http = HttpClient.newHttpClient();

    /** A server under test and a JSON endpoint of it, with a body it would accept but for {@code field}. */
    record Server(String url, String method, String path, String field) {}

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir);
        fabric.startSpawner();
        JsonNode spawned = fabric.spawnerClient().post().uri("/api/v1/spawns").body(Map.of("type", "queue"))
                .retrieve().body(JsonNode.class);
        String member = spawned.path("id").asString();
        String management = fabric.awaitState(member, InstanceState.RUNNING, 1).endpoints().get("management");
        servers = Map.of(
                "registry", new Server(fabric.registryUrl, "POST", "/api/v1/instances", "type"),
                "spawner", new Server(fabric.spawnerUrl(), "POST", "/api/v1/spawns", "type"),
                "member", new Server(management, "POST", "/management/v1/connect", "session"),
                // Every member spawns with the spawner's API, and answers a bad spawn as the spawner does.
                "member-spawns", new Server(management, "POST", "/api/v1/spawns", "type"));
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    static Stream<Arguments> servers() {
        return Stream.of("registry", "spawner", "member", "member-spawns").map(Arguments::of);
    }

    HttpResponse<String> send(Server server, String method, String path, String contentType, String body, boolean signed) throws Exception {
        URI uri = URI.create(server.url() + path);
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new HashMap<>();
        if (signed) {
            headers.putAll(new RequestSigner(fabric.keys, Clock.systemUTC()).sign(method, uri, Map.of(), bytes));
        }
        if (contentType != null) {
            headers.put("Content-Type", contentType);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> sendJson(Server server, String body) throws Exception {
        return send(server, server.method(), server.path(), "application/json", body, true);
    }

    static void assertProblem(HttpResponse<String> answer, int status, String reason, String path) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(status);
        assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
        JsonNode problem = json.readTree(answer.body());
        assertThat(problem.path("type").asString()).isEqualTo("urn:fabric:problem:" + reason);
        assertThat(problem.path("title").asString()).as("the status phrase").isEqualTo(HttpStatus.valueOf(status).getReasonPhrase());
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        assertThat(problem.path("detail").asString()).isNotBlank();
        assertThat(problem.path("instance").asString()).isEqualTo(path);
        assertThat(problem.path("reason").asString()).isEqualTo(reason);
    }

    @ParameterizedTest
    @MethodSource("servers")
    void bytesThatAreNotJsonAreMalformedJson(String name) throws Exception {
        Server server = servers.get(name);
        assertProblem(sendJson(server, "{\"" + server.field() + "\": "), 400, "malformed-json", server.path());
    }

    @ParameterizedTest
    @MethodSource("servers")
    void aFieldTheRequestDoesNotHaveIsAnUnknownField(String name) throws Exception {
        Server server = servers.get(name);
        HttpResponse<String> answer = sendJson(server, "{\"" + server.field() + "\": \"queue\", \"colour\": \"blue\"}");
        assertProblem(answer, 400, "unknown-field", server.path());
        assertThat(json.readTree(answer.body()).path("detail").asString()).isEqualTo("unknown field 'colour'");
    }

    @ParameterizedTest
    @MethodSource("servers")
    void wellFormedJsonThatBreaksTheRulesIsAnInvalidRequest(String name) throws Exception {
        Server server = servers.get(name);
        assertProblem(sendJson(server, "{\"" + server.field() + "\": [\"queue\"]}"), 400, "invalid-request", server.path());
        assertProblem(sendJson(server, "{\"" + server.field() + "\": \"no spaces allowed\"}"), 400, "invalid-request", server.path());
        // A number for text is refused, not converted.
        assertProblem(sendJson(server, "{\"" + server.field() + "\": 5}"), 400, "invalid-request", server.path());
    }

    @ParameterizedTest
    @MethodSource("servers")
    void aBodyThatIsNotJsonIsAnUnsupportedMediaType(String name) throws Exception {
        Server server = servers.get(name);
        assertProblem(send(server, server.method(), server.path(), "text/plain", "queue", true), 415, "unsupported-media-type",
                server.path());
    }

    @ParameterizedTest
    @MethodSource("servers")
    void aPathNobodyServesIsNotFound(String name) throws Exception {
        assertProblem(send(servers.get(name), "GET", "/api/v1/nothing-here", null, null, true), 404, "not-found", "/api/v1/nothing-here");
    }

    @ParameterizedTest
    @MethodSource("servers")
    void anUnsignedRequestIsRefusedAlike(String name) throws Exception {
        Server server = servers.get(name);
        assertProblem(send(server, server.method(), server.path(), "application/json", "{}", false), 401, "unsigned", server.path());
    }
}
