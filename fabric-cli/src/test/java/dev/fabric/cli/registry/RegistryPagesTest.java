package dev.fabric.cli.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.cli.Cli;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A registry that answers its lists in pages ({@code Link: <...>; rel="next"}), scripted with the
 * JDK's HttpServer: the CLI shows every page, and asks this registry for them whatever host a link
 * names.
 */
class RegistryPagesTest {

    private static final String INSTANCE = "{\"id\": \"%s\", \"type\": \"web\", \"name\": \"%1$s\", \"state\": \"RUNNING\", \"incarnation\": 1}";

    @TempDir
    Path home;

    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/instances", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery();
        requests.add(path + (query.isEmpty() ? "" : "?" + query));
        try (exchange) {
            switch (path) {
                // A link to another host: the CLI takes only its path and query.
                case "/api/v1/instances" -> send(exchange, query.contains("after=web-1")
                                ? "{\"revision\": 9, \"instances\": [" + INSTANCE.formatted("web-2") + "]}"
                                : "{\"revision\": 7, \"instances\": [" + INSTANCE.formatted("web-1") + "]}",
                        query.contains("after=") ? null : "<http://elsewhere.example:1/api/v1/instances?type=web&after=web-1&limit=1>; rel=\"next\"");
                case "/api/v1/instances/web-1" -> send(exchange, INSTANCE.formatted("web-1"), null);
                case "/api/v1/instances/web-1/sessions" -> send(exchange, "[]", null);
                case "/api/v1/instances/web-1/history" -> send(exchange, query.contains("after=1")
                                ? "[{\"seq\": 2, \"incarnation\": 1, \"from\": \"RUNNING\", \"to\": \"SUSPECT\", \"reason\": \"late\"}]"
                                : "[{\"seq\": 1, \"incarnation\": 1, \"from\": null, \"to\": \"RUNNING\", \"reason\": \"registered\"}]",
                        query.contains("after=") ? null : "</api/v1/instances/web-1/history?after=1&limit=1>; rel=\"next\"");
                default -> exchange.sendResponseHeaders(404, -1);
            }
        }
    }

    private static void send(HttpExchange exchange, String json, String link) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (link != null) {
            exchange.getResponseHeaders().set("Link", link);
        }
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void servicesShowsEveryPageAndKeepsTheFirstPagesRevision() {
        Cli.Result table = Cli.withHome(home).run("--registry", url(), "services", "--type", "web");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("web-1", "web-2");
        assertThat(requests).containsExactly("/api/v1/instances?type=web", "/api/v1/instances?type=web&after=web-1&limit=1");

        Cli.Result json = Cli.withHome(home).run("--registry", url(), "services", "--type", "web", "-o", "json");
        JsonNode answer = JsonMapper.builder().build().readTree(json.out());
        assertThat(answer.path("revision").asLong()).as("the revision to watch from so that nothing is missed").isEqualTo(7);
        assertThat(answer.path("instances").valueStream().map(instance -> instance.path("id").asString()))
                .containsExactly("web-1", "web-2");
    }

    @Test
    void serviceShowsTheWholeHistory() {
        Cli.Result result = Cli.withHome(home).run("--registry", url(), "service", "web-1");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).containsPattern("(?m)^1 .*RUNNING\\s+registered$").containsPattern("(?m)^2 .*SUSPECT\\s+late$");
        assertThat(requests).contains("/api/v1/instances/web-1/history?after=1&limit=1");
    }
}
