package dev.fabric.spawner.role.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.RequestBatches;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's events against a registry and a pubsub member that are one small server here, which
 * refuses a request body over its limit as a member's signature filter does ({@code 413 body-too-large}).
 */
class EventPublisherTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HttpServer server;
    private URI base;
    private volatile long limit = RequestBatches.MEMBER_MAX_BODY_BYTES;
    private final List<Integer> accepted = Collections.synchronizedList(new ArrayList<>());
    private final List<Integer> refused = Collections.synchronizedList(new ArrayList<>());
    private final List<TaskEvent> published = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong next = new AtomicLong();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        server.createContext("/api/v1/instances/", exchange -> answer(exchange, 200, instance()));
        server.createContext("/topics/", this::publish);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void eventsWithLargeOutputGoInRequestsThePubsubTakes() throws Exception {
        try (FabricClient client = FabricClient.builder(base, FabricKeys.generate()).name("agent-1").build();
             EventPublisher publisher = new EventPublisher(client.pubsub("pubsub-1"), "tasks.pilot-1", JSON)) {
            // Handed in while the first request is under way: they wait for the next, together.
            List<CompletableFuture<Void>> futures = IntStream.range(0, 40)
                    .mapToObj(i -> publisher.publish(event("t-" + i, "o".repeat(60 * 1024)))).toList();

            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        assertThat(refused).as("requests refused as too large").isEmpty();
        assertThat(accepted).allMatch(bytes -> bytes <= RequestBatches.MEMBER_MAX_BODY_BYTES);
        assertThat(published).hasSize(40).allMatch(event -> event.stdout().length() == 60 * 1024);
    }

    @Test
    void whileTasksWaitForASlotARequestWaitsForMoreEventsUntilItHasEnough() throws Exception {
        try (FabricClient client = FabricClient.builder(base, FabricKeys.generate()).name("agent-1").build();
             EventPublisher publisher = new EventPublisher(client.pubsub("pubsub-1"), "tasks.pilot-1", JSON, () -> true,
                     Duration.ofMinutes(5), () -> {})) {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < EventPublisher.LINGER_ENOUGH; i++) {
                futures.add(publisher.publish(event("t-" + i, "")));
                Thread.sleep(1);
            }

            // Gone once it had enough, not after the five minutes it may wait.
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        assertThat(accepted).as("one request for all").hasSize(1);
        assertThat(published).hasSize(EventPublisher.LINGER_ENOUGH);
    }

    @Test
    void withNoTaskWaitingALoneEventGoesAtOnce() throws Exception {
        try (FabricClient client = FabricClient.builder(base, FabricKeys.generate()).name("agent-1").build();
             EventPublisher publisher = new EventPublisher(client.pubsub("pubsub-1"), "tasks.pilot-1", JSON, () -> false,
                     Duration.ofMinutes(5), () -> {})) {
            publisher.publish(event("t-1", "")).get(30, TimeUnit.SECONDS);
        }
        assertThat(published).hasSize(1);
    }

    @Test
    void anEventTooLargeForARequestEvenAloneIsPublishedWithoutItsOutput() throws Exception {
        limit = 64 * 1024;
        try (FabricClient client = FabricClient.builder(base, FabricKeys.generate()).name("agent-1").maxBodySize(64 * 1024).build();
             EventPublisher publisher = new EventPublisher(client.pubsub("pubsub-1"), "tasks.pilot-1", JSON)) {
            publisher.publish(event("t-big", "o".repeat(100 * 1024))).get(30, TimeUnit.SECONDS);
        }
        assertThat(published).singleElement().satisfies(event -> {
            assertThat(event.stdout()).isEmpty();
            assertThat(event.stdoutTruncated()).isTrue();
            assertThat(event.detail()).contains("the pubsub refused this event with its output (body-too-large)");
        });
    }

    private static TaskEvent event(String task, String stdout) {
        return new TaskEvent(task, "pilot-1", TaskState.DONE, "agent-1", 1, Instant.now(), 0, null, null, Duration.ofMillis(5),
                stdout, "", false, false);
    }

    private void publish(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (body.length > limit) {
            refused.add(body.length);
            answer(exchange, 413, "{\"type\":\"urn:fabric:problem:body-too-large\",\"status\":413,\"reason\":\"body-too-large\","
                    + "\"detail\":\"the request body exceeds " + limit + " bytes; send a smaller body\"}");
            return;
        }
        accepted.add(body.length);
        JsonNode request = JSON.readTree(body);
        List<Long> offsets = new ArrayList<>();
        List<JsonNode> bodies = new ArrayList<>();
        if (request.hasNonNull("body")) {
            bodies.add(request.get("body"));
        } else {
            request.get("bodies").forEach(bodies::add);
        }
        for (JsonNode one : bodies) {
            published.add(JSON.readValue(one.asString(), TaskEvent.class));
            offsets.add(next.getAndIncrement());
        }
        answer(exchange, 200, request.hasNonNull("body") ? "{\"offset\":" + offsets.getFirst() + "}"
                : JSON.writeValueAsString(Map.of("offsets", offsets)));
    }

    private String instance() {
        return "{\"id\":\"pubsub-1\",\"type\":\"pubsub\",\"name\":\"pubsub-1\",\"state\":\"RUNNING\",\"incarnation\":1,"
                + "\"connectivity\":\"DIRECT\",\"endpoints\":{\"management\":\"" + base + "\",\"pubsub\":\"" + base + "\"},"
                + "\"metadata\":{},\"registeredAt\":\"2026-12-04T12:00:00Z\",\"updatedAt\":\"2026-12-04T12:00:00Z\","
                + "\"lastHeartbeatAt\":\"2026-12-04T12:00:00Z\"}";
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", status == 200 ? "application/json" : "application/problem+json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
