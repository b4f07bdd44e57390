package dev.fabric.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A spawner, a member that spawns ({@code parent-1}) and the registry in one JDK HttpServer, scripted:
 * a spawn, a restart and a stop answer only after a while, as a real spawner answers once it has
 * started the member (after a wait for a starting slot, or the staging of the distribution on an SSH
 * host). The member it spawns, {@code queue-1}, is RUNNING in the registry.
 */
public final class SlowSpawner implements AutoCloseable {

    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpServer server;
    /** Counted down when the test ends: a spawner that never answers answers then. */
    private final CountDownLatch ended = new CountDownLatch(1);
    /** How long a spawn, restart or stop takes to answer; null: until the test ends. */
    private volatile Duration answerAfter = Duration.ZERO;

    public SlowSpawner() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(executor);
        server.createContext("/api/v1/spawns", exchange -> {
            takeTime();
            send(exchange, 201, "{\"id\": \"queue-1\"}");
        });
        server.createContext("/api/v1/members/queue-1", exchange -> {
            takeTime();
            if (exchange.getRequestMethod().equals("DELETE")) {
                send(exchange, 204, null);
            } else {
                send(exchange, 200, instance("queue-1", "queue", "BOOTSTRAPPING", 2, "{}"));
            }
        });
        server.createContext("/api/v1/instances/queue-1", exchange -> send(exchange, 200,
                exchange.getRequestURI().getPath().endsWith("/history")
                        ? "[{\"seq\": 1, \"incarnation\": 1, \"to\": \"RUNNING\", \"reason\": \"registered RUNNING\", \"at\": \"2026-03-01T12:00:01Z\"}]"
                        : instance("queue-1", "queue", "RUNNING", 1, "{}")));
        server.createContext("/api/v1/instances/parent-1", exchange -> send(exchange, 200,
                instance("parent-1", "queue", "RUNNING", 1, "{\"management\": \"" + url() + "\"}")));
        server.start();
    }

    /** The spawner's, the member's and the registry's URL. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Spawns, restarts and stops answer after {@code time}; {@code null}: not before the test ends. */
    public SlowSpawner answerAfter(Duration time) {
        answerAfter = time;
        return this;
    }

    @Override
    public void close() {
        ended.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    private void takeTime() {
        Duration time = answerAfter;
        try {
            if (time == null) {
                ended.await();
            } else {
                ended.await(time.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String instance(String id, String type, String state, long incarnation, String endpoints) {
        return "{\"id\": \"" + id + "\", \"type\": \"" + type + "\", \"state\": \"" + state + "\", \"incarnation\": " + incarnation
                + ", \"endpoints\": " + endpoints + ", \"metadata\": {}}";
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        try (exchange) {
            if (json == null) {
                exchange.sendResponseHeaders(status, -1);
                return;
            }
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }
}
