package dev.fabric.core.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.task.TaskDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bulk calls against a registry and members that are one small server here, which refuses a
 * request body over its limit as a member's signature filter does ({@code 413 body-too-large}):
 * a bulk call goes in requests under the limit, and halves a request the member refuses as too large.
 */
class BulkRequestSizeTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HttpServer server;
    private URI base;
    /** The member's max-body-size. */
    private volatile long limit = RequestBatches.MEMBER_MAX_BODY_BYTES;
    private final List<Integer> accepted = Collections.synchronizedList(new ArrayList<>());
    private final List<Integer> refused = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong next = new AtomicLong();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        server.createContext("/api/v1/instances/", exchange -> {
            String id = exchange.getRequestURI().getPath().substring("/api/v1/instances/".length());
            answer(exchange, 200, instance(id));
        });
        server.createContext("/management/v1/sessions/", exchange -> answer(exchange, 200, "{}"));
        server.createContext("/pilots/", exchange -> {
            JsonNode request = read(exchange);
            if (request == null) {
                return;
            }
            List<String> ids = new ArrayList<>();
            request.get("tasks").forEach(task -> ids.add("t-" + next.incrementAndGet()));
            answer(exchange, 200, JSON.writeValueAsString(Map.of("ids", ids, "finalsAfter", 0)));
        });
        server.createContext("/topics/", exchange -> {
            JsonNode request = read(exchange);
            if (request == null) {
                return;
            }
            List<Long> offsets = new ArrayList<>();
            request.get("bodies").forEach(body -> offsets.add(next.getAndIncrement()));
            answer(exchange, 200, JSON.writeValueAsString(Map.of("offsets", offsets)));
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aThousandTasksWithAKibibyteOfEnvironmentEachGoInRequestsTheMemberTakes() {
        List<TaskDescription> tasks = IntStream.range(0, 1000)
                .mapToObj(i -> TaskDescription.of("printenv", "DATA").withEnvironment(Map.of("DATA", "x".repeat(1024)))).toList();
        try (FabricClient client = client()) {
            List<String> ids = client.tasks("pilot-manager-1", "s-1").submit("pilot-1", tasks);

            assertThat(ids).hasSize(1000).doesNotHaveDuplicates();
        }
        assertThat(refused).as("requests refused as too large").isEmpty();
        assertThat(accepted).hasSizeGreaterThan(1).allMatch(bytes -> bytes <= RequestBatches.MEMBER_MAX_BODY_BYTES);
    }

    @Test
    void aMemberWithALowerLimitGetsARefusedRequestAgainInHalves() {
        limit = 64 * 1024;
        List<TaskDescription> tasks = IntStream.range(0, 300)
                .mapToObj(i -> TaskDescription.of("printenv", "DATA").withEnvironment(Map.of("DATA", "x".repeat(1024)))).toList();
        try (FabricClient client = client()) {
            List<String> ids = client.tasks("pilot-manager-1", "s-1").submit("pilot-1", tasks);

            assertThat(ids).hasSize(300).doesNotHaveDuplicates();
        }
        assertThat(refused).isNotEmpty();
        assertThat(accepted).allMatch(bytes -> bytes <= 64 * 1024);
    }

    @Test
    void aTaskTooLargeForARequestAloneIsRefusedBeforeAnythingIsSent() {
        List<TaskDescription> tasks = List.of(TaskDescription.of("true"),
                TaskDescription.of("printenv", "DATA").withEnvironment(Map.of("DATA", "x".repeat(600 * 1024))));
        try (FabricClient client = client()) {
            assertThatThrownBy(() -> client.tasks("pilot-manager-1", "s-1").submit("pilot-1", tasks))
                    .isInstanceOf(RequestBatches.ItemTooLargeException.class)
                    .hasMessageContaining("task 1 of the submission to pilot pilot-1")
                    .hasMessageContaining("over the 524288 bytes a member takes in one request")
                    .hasMessageContaining("fabric.security.signature.max-body-size")
                    .hasMessageContaining("nothing was sent");
        }
        assertThat(accepted).isEmpty();
        assertThat(refused).isEmpty();
    }

    @Test
    void aTaskTheMemberRefusesAloneAsTooLargeFailsNamingTheSetting() {
        limit = 4 * 1024;
        List<TaskDescription> tasks = List.of(TaskDescription.of("printenv", "DATA").withEnvironment(Map.of("DATA", "x".repeat(8 * 1024))));
        try (FabricClient client = client()) {
            assertThatThrownBy(() -> client.tasks("pilot-manager-1", "s-1").submit("pilot-1", tasks))
                    .isInstanceOf(MemberRefusedException.class).hasMessageContaining("fabric.security.signature.max-body-size")
                    .satisfies(e -> assertThat(((MemberRefusedException) e).status()).isEqualTo(413));
        }
        assertThat(refused).hasSize(1);
    }

    @Test
    void publishAllSendsManyLargeBodiesInRequestsTheMemberTakes() {
        List<String> bodies = IntStream.range(0, 200).mapToObj(i -> "{\"n\": " + i + ", \"data\": \"" + "y".repeat(10 * 1024) + "\"}").toList();
        try (FabricClient client = client()) {
            List<Long> offsets = client.pubsub("pubsub-1").publishAll("events", bodies);

            assertThat(offsets).hasSize(200).isSorted().doesNotHaveDuplicates();
        }
        assertThat(refused).isEmpty();
        assertThat(accepted).hasSizeGreaterThan(1).allMatch(bytes -> bytes <= RequestBatches.MEMBER_MAX_BODY_BYTES);
    }

    @Test
    void publishAllOfMoreThanAThousandSmallBodiesGoesInSeveralRequests() {
        List<String> bodies = IntStream.range(0, 2500).mapToObj(i -> "m" + i).toList();
        try (FabricClient client = client()) {
            assertThat(client.pubsub("pubsub-1").publishAll("events", bodies)).hasSize(2500);
        }
        assertThat(accepted).hasSize(3);
    }

    private FabricClient client() {
        return FabricClient.builder(base, FabricKeys.generate()).name("bulk-test").build();
    }

    /** The request's JSON, or null when it was over the limit and answered 413 as a member's signature filter does. */
    private JsonNode read(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (body.length > limit) {
            refused.add(body.length);
            exchange.getResponseHeaders().add("Content-Type", "application/problem+json");
            byte[] problem = ("{\"type\":\"urn:fabric:problem:body-too-large\",\"title\":\"Content Too Large\",\"status\":413,"
                    + "\"detail\":\"the request body exceeds " + limit + " bytes; send a smaller body\",\"reason\":\"body-too-large\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(413, problem.length);
            exchange.getResponseBody().write(problem);
            exchange.close();
            return null;
        }
        accepted.add(body.length);
        return JSON.readTree(body);
    }

    private String instance(String id) {
        String type = id.substring(0, id.lastIndexOf('-'));
        return "{\"id\":\"" + id + "\",\"type\":\"" + type + "\",\"name\":\"" + id + "\",\"state\":\"RUNNING\",\"incarnation\":1,"
                + "\"connectivity\":\"DIRECT\",\"endpoints\":{\"management\":\"" + base + "\",\"pubsub\":\"" + base + "\",\"pilots\":\""
                + base + "\"},\"metadata\":{},\"registeredAt\":\"2026-12-04T12:00:00Z\",\"updatedAt\":\"2026-12-04T12:00:00Z\","
                + "\"lastHeartbeatAt\":\"2026-12-04T12:00:00Z\"}";
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
