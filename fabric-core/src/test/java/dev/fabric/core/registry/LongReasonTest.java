package dev.fabric.core.registry;

import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reason often quotes another server's answer (a member's 500 page, a refused key offer). The
 * registry refuses a reason over 1024 characters with 400, and a refused step left the member
 * BOOTSTRAPPING for good: the client cuts long reasons to fit instead.
 */
class LongReasonTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    HttpServer registry;
    final List<String> recorded = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startRegistry() throws Exception {
        // Answers as the registry does: 400 invalid-request for a reason over its column, else the moved instance.
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/api/v1/instances/", exchange -> {
            JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
            String reason = body.path("reason").asString();
            byte[] answer;
            int status;
            if (reason.length() > 1024) {
                status = 400;
                answer = "{\"status\":400,\"reason\":\"invalid-request\",\"detail\":\"reason size must be between 0 and 1024\"}"
                        .getBytes(StandardCharsets.UTF_8);
            } else {
                recorded.add(reason);
                status = 200;
                answer = JSON.writeValueAsBytes(new ServiceInstance("queue-1", "queue", null,
                        body.has("state") ? InstanceState.valueOf(body.path("state").asString()) : InstanceState.FAILED, reason, 1,
                        null, Connectivity.DIRECT, null, null, null, null, null));
            }
            exchange.getResponseHeaders().add("Content-Type", status == 200 ? "application/json" : "application/problem+json");
            exchange.sendResponseHeaders(status, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        registry.start();
    }

    @AfterEach
    void stopRegistry() {
        registry.stop(0);
    }

    RegistryClient client() {
        return new RegistryClient(URI.create("http://127.0.0.1:" + registry.getAddress().getPort()), FabricKeys.generate(),
                Duration.ofSeconds(5));
    }

    @Test
    void aStateChangeQuotingALongAnswerIsRecordedCut() {
        String quoted = "bootstrap failed: configuring role queue failed: HTTP 500: " + "<html>".repeat(2000);
        ServiceInstance failed = client().changeState("queue-1", 1, InstanceState.FAILED, quoted, null);
        assertThat(failed.state()).isEqualTo(InstanceState.FAILED);
        assertThat(recorded).singleElement().satisfies(reason -> {
            assertThat(reason).hasSize(StateChangeRequest.MAX_REASON).startsWith("bootstrap failed: configuring role queue failed")
                    .endsWith("...");
        });
    }

    @Test
    void aLongReportIsRecordedCut() {
        client().report("queue-1", new ReportRequest(ReportRequest.Kind.FAILED, "queue-1", 1L, "x".repeat(5000)));
        assertThat(recorded).singleElement().satisfies(reason -> assertThat(reason).hasSize(StateChangeRequest.MAX_REASON));
    }

    @Test
    void aShortReasonIsUntouchedAndACutNeverSplitsACharacter() {
        assertThat(StateChangeRequest.fit("launched")).isEqualTo("launched");
        assertThat(StateChangeRequest.fit(null)).isNull();
        String emoji = "a".repeat(1020) + "\uD83D\uDE00".repeat(10);
        String cut = StateChangeRequest.fit(emoji);
        assertThat(cut.length()).isLessThanOrEqualTo(StateChangeRequest.MAX_REASON);
        assertThat(Character.isHighSurrogate(cut.charAt(cut.length() - 4))).isFalse();
    }
}
