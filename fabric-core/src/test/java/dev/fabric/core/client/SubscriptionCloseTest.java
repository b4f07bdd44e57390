package dev.fabric.core.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.pubsub.PubSubWire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Subscription#close()} of a polling subscription, against a pubsub member (and its registry)
 * that is one small server here: when close() returns the subscription is no longer open and its
 * subscriber is handed nothing more, though the poll under way has not ended yet.
 */
class SubscriptionCloseTest {

    private static final Duration PATIENCE = Duration.ofMinutes(1);

    private HttpServer server;
    private ExecutorService handlers;
    private URI base;
    /** Counted down when the test ends: lets a held poll go. */
    private final CountDownLatch release = new CountDownLatch(1);
    /** Counted down when a poll from offset 2 arrived: the one the member holds. */
    private final CountDownLatch heldPollArrived = new CountDownLatch(1);
    /** Messages from offset 0 on that the member hands to a poll from offset 0. */
    private volatile int firstAnswer;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        handlers = Executors.newCachedThreadPool();
        server.setExecutor(handlers);
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        server.createContext("/api/v1/instances/pubsub-1", exchange -> answer(exchange, instance()));
        server.createContext("/topics/t/messages", exchange -> {
            String query = exchange.getRequestURI().getQuery();
            if (query.contains("from=0") && firstAnswer > 0) {
                answer(exchange, messages(0, firstAnswer));
                return;
            }
            heldPollArrived.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            answer(exchange, messages(2, 2));
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
    void aPollingSubscriptionIsNotOpenOnceCloseReturns() throws Exception {
        try (FabricClient client = client()) {
            List<Long> handed = new CopyOnWriteArrayList<>();
            Subscription subscription = client.pubsub("pubsub-1").subscribeByPolling("t", 0L, message -> handed.add(message.offset()));
            assertThat(heldPollArrived.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(subscription.isOpen()).isTrue();

            subscription.close();

            assertThat(subscription.isOpen()).as("isOpen() once close() returned, its poll still under way").isFalse();
            // The poll under way answers now: what it carries is not handed over.
            release.countDown();
            assertThat(subscription.awaitEnd(PATIENCE)).isTrue();
            assertThat(handed).isEmpty();
            assertThat(subscription.isOpen()).isFalse();
        }
    }

    @Test
    void closeWaitsForTheMessageBeingHandedOverAndHandsOverNoOther() throws Exception {
        firstAnswer = 2;
        try (FabricClient client = client()) {
            List<Long> handed = new CopyOnWriteArrayList<>();
            CountDownLatch handling = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            AtomicBoolean inHandler = new AtomicBoolean();
            Subscription subscription = client.pubsub("pubsub-1").subscribeByPolling("t", 0L, message -> {
                inHandler.set(true);
                handed.add(message.offset());
                handling.countDown();
                try {
                    finish.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inHandler.set(false);
                }
            });
            assertThat(handling.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Boolean> handlerRanAfterClose = CompletableFuture.supplyAsync(() -> {
                subscription.close();
                return inHandler.get();
            });
            // close() waits for the message under way rather than return while the subscriber still handles it.
            Thread.sleep(200);
            assertThat(handlerRanAfterClose).isNotDone();
            finish.countDown();

            assertThat(handlerRanAfterClose.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("the subscriber busy after close()").isFalse();
            assertThat(subscription.isOpen()).isFalse();
            assertThat(subscription.awaitEnd(PATIENCE)).isTrue();
            assertThat(handed).as("offset 1 came in the same answer as 0, after close()").containsExactly(0L);
            assertThat(subscription.next()).isEqualTo(1);
        }
    }

    private FabricClient client() {
        return FabricClient.builder(base, FabricKeys.generate()).name("subscription-close-test").requestTimeout(Duration.ofMinutes(5)).build();
    }

    private static String messages(long from, int count) {
        StringBuilder json = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < count; i++) {
            json.append(i == 0 ? "" : ",").append("{\"offset\":").append(from + i).append(",\"body\":\"m").append(from + i)
                    .append("\",\"at\":\"2026-12-04T12:00:00Z\"}");
        }
        return json.append("],\"next\":").append(from + count).append('}').toString();
    }

    private String instance() {
        return "{\"id\":\"pubsub-1\",\"type\":\"pubsub\",\"name\":\"pubsub-1\",\"state\":\"RUNNING\",\"incarnation\":1,"
                + "\"connectivity\":\"DIRECT\",\"endpoints\":{\"management\":\"" + base + "\",\"" + PubSubWire.ENDPOINT + "\":\"" + base + "\"},"
                + "\"metadata\":{},\"registeredAt\":\"2026-12-04T12:00:00Z\",\"updatedAt\":\"2026-12-04T12:00:00Z\","
                + "\"lastHeartbeatAt\":\"2026-12-04T12:00:00Z\"}";
    }

    private static void answer(HttpExchange exchange, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
