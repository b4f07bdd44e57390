package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.OffsetGoneException;
import dev.fabric.core.client.PubSub;
import dev.fabric.core.client.Subscription;
import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.testsupport.EventStreamSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The pubsub role against a real fabric (the registry in this JVM, the spawner jar as a process) and
 * one real pubsub member it spawns, shared by the tests: publishing, a stream that resumes from its
 * last event id, {@code FabricClient}'s subscription carrying on across a kill -9 of the member with
 * nothing lost or twice, retention's {@code 410 gone}, refusals with their reasons, a subscriber
 * that hangs up and comes straight back to a pubsub of one stream, and {@code fabric pubsub}.
 * Skipped when the spawner jar has not been built.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PubSubIT {

    @RegisterExtension
    static final LocalFabric.PerClass fabric = new LocalFabric.PerClass();

    static final JsonMapper JSON = JsonMapper.builder().build();
    /** Loaded machines: a restart (a JVM start and a bootstrap) may take more than a minute. */
    static final Duration PATIENCE = Duration.ofMinutes(3);

    static String id;
    static FabricClient client;
    static PubSub pubsub;

    @BeforeAll
    static void spawn() {
        Cli.Result spawn = fabric.cli().run("spawn", "pubsub", "--config", "retention-count=20", "--config", "keep-alive=1s",
                "--wait", "--timeout", "3m");
        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        id = spawn.out().strip();
        client = FabricClient.builder(fabric.registry().baseUrl(), fabric.fabricKeys()).name("pubsub-it").restartTimeout(PATIENCE)
                .build();
        pubsub = client.pubsub(id);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (id != null) {
            fabric.cli().run("stop", id);
        }
    }

    static String endpoint() {
        return fabric.registry().get(id).endpoints().get(PubSubWire.ENDPOINT);
    }

    /** A signed client of the member's pubsub API without a read timeout, for streams; it answers every status. */
    static RestClient signed() {
        return FabricRestClients.signed(fabric.fabricKeys(), Duration.ofSeconds(5), null).baseUrl(endpoint())
                .defaultStatusHandler(status -> true, (request, response) -> { }).build();
    }

    /** Opens a stream with the given request headers, reads {@code count} events (type, id, data) and hangs up. */
    static List<String> readEvents(String query, Map<String, String> headers, int count) {
        return signed().get().uri("/topics/orders/messages" + query).accept(MediaType.TEXT_EVENT_STREAM)
                .headers(h -> headers.forEach(h::add))
                .exchange((request, response) -> {
                    assertThat(response.getStatusCode().value()).isEqualTo(200);
                    List<String> events = new ArrayList<>();
                    // Closed here, or the client would drain a stream that never ends.
                    try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.getBody(), StandardCharsets.UTF_8))) {
                        StringBuilder event = new StringBuilder();
                        String line;
                        while (events.size() < count && (line = lines.readLine()) != null) {
                            if (line.startsWith(":")) {
                                continue;
                            }
                            if (line.isEmpty()) {
                                if (!event.isEmpty()) {
                                    events.add(event.toString().strip());
                                }
                                event.setLength(0);
                            } else {
                                event.append(line).append(' ');
                            }
                        }
                    }
                    return events;
                }, true);
    }

    static JsonNode problem(RestClient.RequestHeadersSpec<?> request, int status) {
        return request.exchange((req, response) -> {
            assertThat(response.getStatusCode().value()).isEqualTo(status);
            assertThat(response.getHeaders().getContentType()).hasToString(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            return JSON.readTree(response.getBody());
        });
    }

    @Test
    @Order(1)
    void publishedMessagesStreamInOrderAndAStreamResumesAfterItsLastEventId() throws Exception {
        assertThat(pubsub.publish("orders", "o0")).isZero();
        assertThat(pubsub.publishAll("orders", List.of("o1", "{\"order\": 2}", "o3"))).containsExactly(1L, 2L, 3L);

        // A stream from offset 0 that hangs up after two events...
        assertThat(readEvents("?from=0", Map.of(), 2)).containsExactly("id:0 event:message data:o0", "id:1 event:message data:o1");
        // ...resumes after the last id it saw, and then follows what is published while it reads.
        Thread publisher = Thread.ofVirtual().start(() -> pubsub.publish("orders", "o4"));
        assertThat(readEvents("", Map.of("Last-Event-ID", "1"), 3)).containsExactly("id:2 event:message data:{\"order\": 2}",
                "id:3 event:message data:o3", "id:4 event:message data:o4");
        publisher.join();

        // What a member reached through a bridge gets: long polls of the JSON fetch, from an offset too.
        List<PubSubWire.Message> polled = new CopyOnWriteArrayList<>();
        try (Subscription byPolling = pubsub.subscribeByPolling("orders", 3L, polled::add)) {
            await().atMost(PATIENCE).until(() -> polled.size() == 2);
            assertThat(byPolling.polling()).isTrue();
        }
        assertThat(polled).extracting(PubSubWire.Message::offset).containsExactly(3L, 4L);

        PubSubWire.Messages fetched = pubsub.fetch("orders", 3L, 10, Duration.ZERO);
        assertThat(fetched.messages()).extracting(PubSubWire.Message::body).containsExactly("o3", "o4");
        assertThat(fetched.messages()).allSatisfy(m -> assertThat(m.at()).isNotNull());
        assertThat(fetched.next()).isEqualTo(5);
        assertThat(pubsub.topics()).contains(new PubSubWire.Topic("orders", 0, 5, 5));

        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                fabric.registry().get(id).endpoints().get("management") + "/actuator/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("fabric_pubsub_published_total", "fabric_pubsub_topics", "fabric_pubsub_subscribers");
    }

    @Test
    @Order(2)
    void aSubscriptionCarriesOnAcrossAKillOfTheMemberWithNothingLostOrTwice() throws Exception {
        List<PubSubWire.Message> received = new CopyOnWriteArrayList<>();
        try (Subscription subscription = pubsub.subscribe("tasks", 0L, received::add)) {
            for (int i = 0; i < 5; i++) {
                pubsub.publish("tasks", "t" + i);
            }
            await().atMost(PATIENCE).until(() -> received.size() == 5);
            ServiceInstance before = fabric.registry().get(id);

            ProcessHandle.of(Long.parseLong(before.metadata().get("pid"))).ifPresent(ProcessHandle::destroyForcibly);

            // Each publish is acknowledged only once journaled, by the restarted member if need be (the client's fail-over).
            for (int i = 5; i < 10; i++) {
                assertThat(pubsub.publish("tasks", "t" + i)).isEqualTo(i);
            }
            await().atMost(PATIENCE).until(() -> received.size() >= 10);
            assertThat(received).extracting(PubSubWire.Message::offset).containsExactlyElementsOf(LongStream.range(0, 10).boxed().toList());
            assertThat(received).extracting(PubSubWire.Message::body)
                    .containsExactlyElementsOf(IntStream.range(0, 10).mapToObj(i -> "t" + i).toList());
            assertThat(subscription.connections()).isGreaterThanOrEqualTo(2);
            assertThat(subscription.next()).isEqualTo(10);
            ServiceInstance after = fabric.registry().get(id);
            assertThat(after.incarnation()).isGreaterThan(before.incarnation());
            assertThat(after.state()).isEqualTo(InstanceState.RUNNING);
        }
        // Everything acknowledged before the kill is served by the new incarnation, from its journal.
        assertThat(pubsub.fetch("orders", 0L, 10, Duration.ZERO).messages()).extracting(PubSubWire.Message::body)
                .containsExactly("o0", "o1", "{\"order\": 2}", "o3", "o4");
    }

    @Test
    @Order(3)
    void aReaderBehindRetentionIsToldGoneWithTheOldestOffset() throws Exception {
        List<String> bodies = IntStream.range(0, 25).mapToObj(i -> "r" + i).toList();
        assertThat(pubsub.publishAll("retained", bodies)).hasSize(25).last().isEqualTo(24L);

        assertThat(pubsub.topics()).contains(new PubSubWire.Topic("retained", 5, 25, 20));
        assertThatThrownBy(() -> pubsub.fetch("retained", 0L, 10, Duration.ZERO)).isInstanceOfSatisfying(OffsetGoneException.class,
                gone -> assertThat(gone.oldest()).isEqualTo(5));

        JsonNode refused = problem(signed().get().uri("/topics/retained/messages?from=4").accept(MediaType.TEXT_EVENT_STREAM), 410);
        assertThat(refused.path("reason").asString()).isEqualTo("gone");
        assertThat(refused.path("oldest").asLong()).isEqualTo(5);
        assertThat(refused.path("detail").asString()).contains("no longer retains offset 4", "oldest retained message is at offset 5");

        AtomicReference<RuntimeException> ended = new AtomicReference<>();
        Subscription behind = pubsub.subscribe("retained", 0L, new dev.fabric.core.client.Subscriber() {
            @Override
            public void onMessage(PubSubWire.Message message) {
                throw new AssertionError("nothing should be handed over: " + message);
            }

            @Override
            public void onEnd(RuntimeException failure) {
                ended.set(failure);
            }
        });
        assertThat(behind.awaitEnd(PATIENCE)).isTrue();
        assertThat(ended.get()).isInstanceOfSatisfying(OffsetGoneException.class, gone -> assertThat(gone.oldest()).isEqualTo(5));
        assertThat(behind.failure()).containsSame(ended.get());
    }

    @Test
    @Order(4)
    void badRequestsAreRefusedWithTheirReason() throws Exception {
        RestClient member = signed();

        JsonNode badTopic = problem(member.post().uri("/topics/Not A Topic!/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", "x")), 400);
        assertThat(badTopic.path("reason").asString()).isEqualTo("invalid-request");
        assertThat(badTopic.path("detail").asString()).contains("'Not A Topic!' is not a topic name");

        JsonNode noBody = problem(member.post().uri("/topics/orders/messages").contentType(MediaType.APPLICATION_JSON).body(Map.of()), 400);
        assertThat(noBody.path("detail").asString()).contains("needs a JSON object with a text \"body\"");

        JsonNode both = problem(member.post().uri("/topics/orders/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", "x", "bodies", List.of("y"))), 400);
        assertThat(both.path("detail").asString()).contains("has both \"body\" and \"bodies\"");

        JsonNode badFrom = problem(member.get().uri("/topics/orders/messages?from=minus-one").accept(MediaType.TEXT_EVENT_STREAM), 400);
        assertThat(badFrom.path("detail").asString()).contains("from must be an offset, a whole number from 0, not 'minus-one'");

        JsonNode ahead = problem(member.get().uri("/topics/orders/messages?from=99").accept(MediaType.APPLICATION_JSON), 400);
        assertThat(ahead.path("detail").asString()).contains("from 99 is past the next offset of topic orders, 5");

        HttpResponse<String> unsigned = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(endpoint()
                + "/topics/orders/messages?from=0")).header(HttpHeaders.ACCEPT, MediaType.TEXT_EVENT_STREAM_VALUE).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unsigned.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(unsigned.body()).path("reason").asString()).isEqualTo("unsigned");

        // Nothing was published by the refusals.
        assertThat(pubsub.topics()).contains(new PubSubWire.Topic("orders", 0, 5, 5));
    }

    /** A member takes 512 KB in one request (its signature filter's max-body-size): larger bulks go in several. */
    @Test
    @Order(7)
    void bulkPublishesLargerThanOneRequestGoInSeveralInOrder() {
        List<String> bodies = IntStream.range(0, 100).mapToObj(i -> "{\"n\": " + i + ", \"pad\": \"" + "p".repeat(10 * 1024) + "\"}").toList();

        List<Long> offsets = pubsub.publishAll("bulk", bodies);

        assertThat(offsets).hasSize(100).isSorted().doesNotHaveDuplicates();
        // The member retains 20 messages a topic here: the last 20, in order.
        List<String> read = pubsub.fetch("bulk", offsets.get(80), 20, Duration.ZERO).messages().stream()
                .map(PubSubWire.Message::body).toList();
        assertThat(read).isEqualTo(bodies.subList(80, 100));
        // The CLI as well: 8 bodies of 100 KiB.
        List<String> args = new ArrayList<>(List.of("pubsub", "publish", id, "cli.bulk"));
        IntStream.range(0, 8).forEach(i -> args.add(i + "q".repeat(100 * 1024)));
        assertThat(ok(args.toArray(String[]::new)).out().lines()).hasSize(8);
    }

    /**
     * A subscriber cut off mid-stream reconnects at once, as this document's reader is told to, to
     * a pubsub that serves one stream: it is served, not refused until the closed stream's next
     * keep-alive (15 s); a second stream beside it is refused with a {@code Retry-After}.
     */
    @Test
    @Order(5)
    void aSubscriberThatHangsUpAndComesStraightBackIsServed() throws Exception {
        Cli.Result spawn = fabric.cli().run("spawn", "pubsub", "--config", "max-subscribers=1", "--wait", "--timeout", "3m");
        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        String single = spawn.out().strip();
        try {
            URI stream = URI.create(fabric.registry().get(single).endpoints().get(PubSubWire.ENDPOINT) + "/topics/cut/messages?from=0");
            client.pubsub(single).publish("cut", "before the cut");

            try (EventStreamSocket first = subscribe(stream)) {
                assertThat(first.status()).isEqualTo(200);
                assertThat(dataLine(first)).isEqualTo("data:before the cut");
            }
            // Hung up mid-stream; back at once, from where it was.
            try (EventStreamSocket again = subscribe(stream)) {
                assertThat(again.status()).as("the subscriber coming back: %s", again.status() == 200 ? "" : again.readBody())
                        .isEqualTo(200);
                assertThat(dataLine(again)).isEqualTo("data:before the cut");

                try (EventStreamSocket second = subscribe(stream)) {
                    assertThat(second.status()).isEqualTo(503);
                    assertThat(second.header("Retry-After")).as("a temporary refusal says when to come back").hasValue("1");
                    assertThat(JSON.readTree(second.readBody()).path("reason").asString()).isEqualTo("too-many-subscribers");
                }
            }
        } finally {
            fabric.cli().run("stop", single);
        }
    }

    static EventStreamSocket subscribe(URI stream) throws Exception {
        return EventStreamSocket.open(stream, new RequestSigner(fabric.fabricKeys(), Clock.systemUTC()).sign("GET", stream, Map.of(),
                new byte[0]), Duration.ofSeconds(20));
    }

    static String dataLine(EventStreamSocket stream) throws Exception {
        String line;
        while ((line = stream.readLine()) != null && !line.startsWith("data:")) {
            // comments, the event's id and name, chunk sizes
        }
        return line;
    }

    @Test
    @Order(6)
    void theCliPublishesFollowsAndListsTopics() {
        assertThat(ok("pubsub", "publish", id, "cli.events", "first").out()).isEqualTo("0\n");
        assertThat(ok("pubsub", "publish", id, "cli.events", "second", "third\nline").out()).isEqualTo("1\n2\n");

        assertThat(ok("pubsub", "subscribe", id, "cli.events", "--from", "1", "--count", "2").out())
                .isEqualTo("1  second\n2  third\\nline\n");
        assertThat(JSON.readTree(ok("pubsub", "subscribe", id, "cli.events", "--from", "0", "--count", "1", "-o", "json").out()))
                .isEqualTo(JSON.readTree("{\"offset\": 0, \"body\": \"first\"}"));
        assertThat(ok("pubsub", "topics", id).out()).contains("NAME", "OLDEST", "NEXT", "RETAINED")
                .containsPattern("cli\\.events +0 +3 +3");

        Cli.Result behind = fabric.cli().run("pubsub", "subscribe", id, "retained", "--from", "0");
        assertThat(behind.exitCode()).isEqualTo(ExitCodes.forStatus(410));
        assertThat(behind.err()).contains("no longer retains offset 0", "--from 5");

        Cli.Result badTopic = fabric.cli().run("pubsub", "publish", id, "Bad Topic", "x");
        assertThat(badTopic.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badTopic.err()).contains("'Bad Topic' is not a topic name", "(invalid-request, HTTP 400)");

        Cli.Result unknown = fabric.cli().run("pubsub", "subscribe", "pubsub-nosuch", "events");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(unknown.err()).contains("pubsub-nosuch", "(unknown-instance, HTTP 404)");
    }

    private static Cli.Result ok(String... args) {
        Cli.Result result = fabric.cli().run(args);
        assertThat(result.exitCode()).as("%s: %s", List.of(args), result.err()).isZero();
        return result;
    }
}
