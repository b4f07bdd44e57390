package dev.fabric.cli.commands.spawner;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.cli.Cli;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code spawn --wait} against a scripted spawner and registry (the JDK's HttpServer, one for both):
 * the member becomes RUNNING between two of the CLI's reads, as it does on a real fabric now and then.
 */
class SpawnWaitTest {

    private static final String BOOTSTRAPPING_HISTORY = "[" + step(1, "PENDING", "registered") + "," + step(2, "BOOTSTRAPPING", "launched") + "]";
    private static final String RUNNING_HISTORY = "[" + step(1, "PENDING", "registered") + "," + step(2, "BOOTSTRAPPING", "launched") + ","
            + step(3, "RUNNING", "registered RUNNING") + "]";

    @TempDir
    Path home;

    private HttpServer server;
    /** The registry's reads so far: the member is RUNNING from the second one on. */
    private final AtomicInteger reads = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/spawns", exchange -> send(exchange, 201, "{\"id\": \"queue-1\"}"));
        server.createContext("/api/v1/instances/queue-1", exchange -> {
            boolean running = reads.incrementAndGet() > 1;
            if (exchange.getRequestURI().getPath().endsWith("/history")) {
                send(exchange, 200, running ? RUNNING_HISTORY : BOOTSTRAPPING_HISTORY);
            } else {
                send(exchange, 200, "{\"id\": \"queue-1\", \"type\": \"queue\", \"state\": \"" + (running ? "RUNNING" : "BOOTSTRAPPING")
                        + "\", \"incarnation\": 1}");
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static String step(int seq, String to, String reason) {
        return "{\"seq\": " + seq + ", \"incarnation\": 1, \"to\": \"" + to + "\", \"reason\": \"" + reason + "\", \"at\": \"2026-03-01T12:00:0"
                + seq + "Z\"}";
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        try (exchange) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    @Test
    void theStepTheWaitEndsOnIsPrinted() {
        String url = "http://127.0.0.1:" + server.getAddress().getPort();
        Cli.Result result = Cli.withHome(home).run("--registry", url, "spawn", "queue", "--spawner", url, "--wait");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).isEqualTo("queue-1\n");
        assertThat(result.err().lines().map(String::strip)).containsExactly(
                "2026-03-01T12:00:01Z  PENDING  registered",
                "2026-03-01T12:00:02Z  BOOTSTRAPPING  launched",
                "2026-03-01T12:00:03Z  RUNNING  registered RUNNING");
    }
}
