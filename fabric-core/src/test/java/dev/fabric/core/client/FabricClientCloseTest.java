package dev.fabric.core.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link FabricClient#close()} against a registry and a pubsub member that are one small server here:
 * it ends what is under way, releases the client's threads, and every call after it says the client
 * is closed.
 */
class FabricClientCloseTest {

    /** Every thread of the JDK's HTTP client: its selector and its workers. */
    private static final String JDK_CLIENT_THREADS = "HttpClient-";
    private static final Duration PATIENCE = Duration.ofMinutes(1);

    private HttpServer server;
    private ExecutorService handlers;
    private URI base;
    /** Counted down when the test ends: lets the held answers (the stream, the slow call) go. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch streaming = new CountDownLatch(1);
    private final CountDownLatch slowCallArrived = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        handlers = Executors.newCachedThreadPool();
        server.setExecutor(handlers);
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        server.createContext("/api/v1/instances/pubsub-1", exchange -> answer(exchange, "application/json", instance()));
        server.createContext("/management/v1/status", exchange -> answer(exchange, "application/json", "{\"ok\":true}"));
        server.createContext("/slow", exchange -> {
            slowCallArrived.countDown();
            hold(exchange);
        });
        server.createContext("/topics/t/messages", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
            exchange.getResponseBody().flush();
            streaming.countDown();
            hold(exchange);
        });
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    @Test
    void closeEndsWhatIsUnderWayAndReleasesTheClientsThreads() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        FabricClient client = FabricClient.builder(base, FabricKeys.generate()).name("close-test")
                .requestTimeout(Duration.ofMinutes(5)).build();
        // A direct call (pooled connections), a stream (the JDK client), and a call the member does not answer.
        String status = client.call("pubsub-1", (rest, url) -> rest.get().uri("/management/v1/status").retrieve().body(String.class));
        assertThat(status).contains("ok");
        AtomicReference<RuntimeException> ended = new AtomicReference<>(new IllegalStateException("onEnd not called"));
        Subscription subscription = client.pubsub("pubsub-1").subscribe("t", 0L, new Subscriber() {
            @Override
            public void onMessage(dev.fabric.core.pubsub.PubSubWire.Message message) {
            }

            @Override
            public void onEnd(RuntimeException failure) {
                ended.set(failure);
            }
        });
        assertThat(streaming.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(
                () -> client.call("pubsub-1", (rest, url) -> rest.get().uri("/slow").retrieve().body(String.class)));
        assertThat(slowCallArrived.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        List<Thread> made = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(JDK_CLIENT_THREADS) && !before.contains(t)).toList();
        assertThat(made).as("the client's HTTP threads").isNotEmpty();

        client.close();

        assertThat(client.isClosed()).isTrue();
        // The call under way ends, with the reason.
        assertThatThrownBy(() -> slow.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("this FabricClient is closed");
        // The subscription ends as a closed one does.
        assertThat(subscription.awaitEnd(PATIENCE)).isTrue();
        assertThat(subscription.isOpen()).isFalse();
        assertThat(ended.get()).isNull();
        // Its threads end.
        for (Thread thread : made) {
            thread.join(PATIENCE);
        }
        assertThat(made).as("the client's HTTP threads after close()").noneMatch(Thread::isAlive);
        // Closing twice is fine.
        assertThatCode(client::close).doesNotThrowAnyException();
    }

    @Test
    void everyCallAfterCloseSaysTheClientIsClosed() {
        FabricClient client = FabricClient.builder(base, FabricKeys.generate()).name("closed-test").build();
        BoundMember bound = client.bind("pubsub-1", "management");
        PubSub pubsub = client.pubsub("pubsub-1");
        var registry = client.registry();
        client.close();

        List<Runnable> calls = List.of(
                () -> client.call("pubsub-1", (rest, url) -> "never"),
                () -> client.registry(),
                () -> client.pubsub("pubsub-1"),
                () -> client.bind("pubsub-1", "management"),
                () -> client.tasks("pilot-manager-1", "s-1"),
                () -> client.connect(List.of("s-1")),
                () -> bound.call((rest, url) -> "never"),
                () -> pubsub.topics(),
                () -> pubsub.subscribe("t", 0L, message -> {}));
        for (Runnable call : calls) {
            assertThatThrownBy(call::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("this FabricClient is closed");
        }
        // The registry client it handed out is closed with it.
        assertThatThrownBy(() -> registry.get("pubsub-1")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("this RegistryClient is closed");
        assertThatCode(client::close).doesNotThrowAnyException();
    }

    private String instance() {
        return "{\"id\":\"pubsub-1\",\"type\":\"pubsub\",\"name\":\"pubsub-1\",\"state\":\"RUNNING\",\"incarnation\":1,"
                + "\"connectivity\":\"DIRECT\",\"endpoints\":{\"management\":\"" + base + "\",\"pubsub\":\"" + base + "\"},"
                + "\"metadata\":{},\"registeredAt\":\"2026-12-04T12:00:00Z\",\"updatedAt\":\"2026-12-04T12:00:00Z\","
                + "\"lastHeartbeatAt\":\"2026-12-04T12:00:00Z\"}";
    }

    private static void answer(HttpExchange exchange, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** Holds the answer until the test ends. */
    private void hold(HttpExchange exchange) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }
}
