package dev.fabric.core.registry;

import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A registration the registry refuses for the moment is signed afresh and sent again; one it refuses for good is not. */
class RegistryClientRegistrationTest {

    record Answer(int status, String retryAfter, String body) {}

    HttpServer server;
    final List<String> signatures = new CopyOnWriteArrayList<>();

    RegistryClient serve(Answer... answers) throws Exception {
        Iterator<Answer> next = List.of(answers).iterator();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/instances", exchange -> {
            signatures.add(exchange.getRequestHeaders().getFirst("Signature-Input"));
            exchange.getRequestBody().readAllBytes();
            Answer answer = next.next();
            byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", answer.status() < 300 ? "application/json" : "application/problem+json");
            if (answer.retryAfter() != null) {
                exchange.getResponseHeaders().add("Retry-After", answer.retryAfter());
            }
            if (answer.retryAfter() != null && answer.retryAfter().equals("cut")) {
                // The answer breaks off: half its body, then the connection closes.
                exchange.getResponseHeaders().remove("Retry-After");
                exchange.sendResponseHeaders(answer.status(), body.length);
                exchange.getResponseBody().write(body, 0, body.length / 2);
                exchange.getResponseBody().flush();
                exchange.close(); // short of its length ("insufficient bytes written"): the server drops the connection
                return;
            }
            exchange.sendResponseHeaders(answer.status(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return new RegistryClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), FabricKeys.generate(), Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    static Answer problem(int status, String reason, String retryAfter) {
        return new Answer(status, retryAfter, "{\"type\":\"urn:fabric:problem:" + reason + "\",\"status\":" + status + ",\"reason\":\""
                + reason + "\",\"detail\":\"refused\"}");
    }

    static RegistrationRequest request() {
        return new RegistrationRequest("q-1", "queue", null, InstanceState.RUNNING, 1L, null, null, null, null);
    }

    @Test
    void aBusyRegistryIsAskedAgainWithAFreshSignatureAfterItsRetryAfter() throws Exception {
        RegistryClient client = serve(problem(503, "registry-busy", "1"), new Answer(201, null, RegistryClientPagingTest.instance("q-1")));
        assertThat(client.register(request()).id()).isEqualTo("q-1");
        assertThat(signatures).hasSize(2).doesNotHaveDuplicates();
    }

    @Test
    void aConflictIsNotAskedAgain() throws Exception {
        RegistryClient client = serve(problem(409, "stale-incarnation", null), new Answer(201, null, RegistryClientPagingTest.instance("q-1")));
        assertThatThrownBy(() -> client.register(request())).isInstanceOfSatisfying(RegistryCallException.class,
                e -> assertThat(e.reason()).isEqualTo("stale-incarnation"));
        assertThat(signatures).hasSize(1);
    }

    @Test
    void anAnswerThatBreaksOffIsAFailedCallNotAnUnexpectedException() throws Exception {
        RegistryClient client = serve(new Answer(201, "cut", RegistryClientPagingTest.instance("q-1")));
        assertThatThrownBy(() -> client.register(request())).isInstanceOfSatisfying(RegistryCallException.class,
                e -> assertThat(e.unreachable()).isTrue());
    }
}
