package dev.fabric.cli.commands.watch;

import dev.fabric.cli.Cli;
import dev.fabric.cli.common.ExitCodes;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The watch's reconnection against a scripted event-stream server (the JDK's HttpServer): what it
 * asks for after a drop, when it gives up, and which failures it does not retry.
 */
class WatchReconnectTest {

    @TempDir
    Path home;

    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Script script;

    @FunctionalInterface
    interface Script {
        void answer(int connection, HttpExchange exchange) throws IOException, InterruptedException;
    }

    @BeforeEach
    void start() throws IOException {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/api/v1/watch", exchange -> {
            requests.add(exchange.getRequestURI().getQuery() + " signed=" + exchange.getRequestHeaders().containsKey("Signature-Input"));
            try {
                script.answer(connections.incrementAndGet(), exchange);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static OutputStream eventStream(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
    }

    private static void send(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String event(long revision, String id) {
        return "id:" + revision + "\nevent:REGISTERED\ndata:{\"instance\":{\"id\":\"" + id + "\",\"type\":\"web\",\"updatedAt\":\"2026-03-01T12:00:00Z\"},"
                + "\"from\":null,\"to\":\"RUNNING\",\"reason\":\"registered\"}\n\n";
    }

    private static void holdOpen() throws InterruptedException {
        Thread.sleep(Duration.ofMinutes(1));
    }

    /** A watch running on its own thread; stopped by interrupting it, as Ctrl-C does. */
    private final class RunningWatch {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final AtomicReference<Integer> exitCode = new AtomicReference<>();
        final Thread thread;

        RunningWatch(String... args) {
            var commandLine = Cli.withHome(home).start(new PrintWriter(out, true), new PrintWriter(err, true));
            thread = Thread.ofPlatform().name("watch").start(() -> exitCode.set(commandLine.execute(args)));
        }

        int stop() throws InterruptedException {
            thread.interrupt();
            thread.join(Duration.ofSeconds(10));
            assertThat(thread.isAlive()).as("the watch ends when interrupted").isFalse();
            return exitCode.get();
        }
    }

    @Test
    void aDroppedStreamResumesAfterTheLastRevisionSeen() throws Exception {
        script = (connection, exchange) -> {
            OutputStream out = eventStream(exchange);
            if (connection == 1) {
                send(out, ":watching changes after revision 4\n\n" + event(5, "web-1") + event(6, "web-2"));
                return; // the stream ends
            }
            send(out, event(7, "web-3"));
            holdOpen();
        };
        RunningWatch watch = new RunningWatch("--registry", url(), "watch", "--since", "4");
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.out.toString().contains("web-3"));
        assertThat(watch.stop()).isEqualTo(ExitCodes.OK);

        assertThat(requests).containsExactly("since=4 signed=true", "since=6 signed=true");
        assertThat(watch.out.toString().lines().map(line -> line.split("\\s+")[0] + " " + line.split("\\s+")[3]))
                .containsExactly("5 web-1", "6 web-2", "7 web-3");
        assertThat(watch.err.toString())
                .contains("fabric: the registry at " + url() + " ended the watch stream; reconnecting from revision 6 in 0.5 s (attempt 1 of 10)")
                .contains("fabric: watching " + url() + " again from revision 6");
    }

    @Test
    void aFailingRegistryIsRetriedThenGivenUpOn() throws Exception {
        script = (connection, exchange) -> {
            byte[] problem = "{\"status\":503,\"reason\":\"database-unavailable\",\"detail\":\"the registry's database does not answer\"}"
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/problem+json");
            exchange.sendResponseHeaders(503, problem.length);
            exchange.getResponseBody().write(problem);
        };
        Cli.Result result = Cli.withHome(home).run("--registry", url(), "watch", "--since", "0", "--retries", "2");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.SERVER_ERROR);
        assertThat(requests).hasSize(3);
        assertThat(result.err())
                .contains("reconnecting from revision 0 in 0.5 s (attempt 1 of 2)")
                .contains("reconnecting from revision 0 in 1 s (attempt 2 of 2)")
                .contains("fabric: the registry's database does not answer (database-unavailable, HTTP 503); gave up after 2 reconnection attempts");
    }

    @Test
    void aSilentStreamIsDroppedAndResumed() throws Exception {
        script = (connection, exchange) -> {
            OutputStream out = eventStream(exchange);
            if (connection == 1) {
                send(out, event(1, "web-1"));
            }
            holdOpen();
        };
        RunningWatch watch = new RunningWatch("--registry", url(), "watch", "--since", "0", "--idle-timeout", "1");
        await().atMost(Duration.ofSeconds(10)).until(() -> requests.size() == 2);
        assertThat(watch.stop()).isEqualTo(ExitCodes.OK);
        assertThat(requests).containsExactly("since=0 signed=true", "since=1 signed=true");
        assertThat(watch.err.toString()).contains("the watch stream from " + url() + " sent nothing for 1 s; reconnecting from revision 1");
    }

    @Test
    void aRefusedSignatureIsNotRetried() {
        script = (connection, exchange) -> {
            byte[] problem = "{\"status\":401,\"reason\":\"unknown-key\",\"detail\":\"keyid 'x' is not trusted\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/problem+json");
            exchange.sendResponseHeaders(401, problem.length);
            exchange.getResponseBody().write(problem);
        };
        Cli.Result result = Cli.withHome(home).run("--registry", url(), "watch", "--since", "0");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.REFUSED);
        assertThat(requests).hasSize(1);
        assertThat(result.err()).contains("fabric: keyid 'x' is not trusted (unknown-key, HTTP 401)", "--keys DIR or $FABRIC_KEYS");
    }

    @Test
    void withoutRetriesAnUnreachableRegistryEndsTheWatchAtOnce() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Cli.Result result = Cli.withHome(home).run("--registry", "http://127.0.0.1:" + port, "watch", "--since", "0", "--retries", "0");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(result.err()).contains("cannot reach the registry at http://127.0.0.1:" + port + " (connection refused)", "./fabric up");
    }
}
