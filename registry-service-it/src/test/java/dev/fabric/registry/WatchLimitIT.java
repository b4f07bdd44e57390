package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.testsupport.EventStreamSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Watch streams are bounded: one more than max-streams is refused with its reason and a
 * {@code Retry-After}; a closed one frees its place, at once when a new watch needs it.
 */
class WatchLimitIT {

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void watchesBeyondTheLimitAreRefusedUntilOneCloses() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        try (ConfigurableApplicationContext app = new SpringApplication(RegistryApplication.class).run("--server.port=0",
                "--fabric.registry.data-dir=" + dir.resolve("data"), "--fabric.security.keys-path=" + dir.resolve("keys"),
                "--fabric.registry.watch.max-streams=2", "--fabric.registry.watch.keep-alive=500ms")) {
            String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
            RegistryClient registry = new RegistryClient(base, keys);

            BufferedReader first = open(base, keys);
            BufferedReader second = open(base, keys);
            RegistryClient.Answer refused = registry.get("/api/v1/watch");
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.reason()).isEqualTo("too-many-watches");
            assertThat(refused.body().path("detail").asString()).contains("max-streams");
            try (EventStreamSocket again = rawWatch(base, keys)) {
                assertThat(again.status()).isEqualTo(503);
                assertThat(again.header("Retry-After")).as("a temporary refusal says when to come back").hasValue("1");
            }

            // The open streams still see every change (through the shared change feed).
            registry.post("/api/v1/instances", Map.of("id", "w-1", "type", "queue"));
            assertThat(nextEventId(first)).isEqualTo(nextEventId(second)).isEqualTo("1");

            first.close();
            // The server notices the closed stream when it next writes to it (a keep-alive at the latest).
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                HttpResponse<InputStream> third = watch(base, keys);
                try (InputStream body = third.body()) {
                    assertThat(third.statusCode()).isEqualTo(200);
                }
            });
            second.close();
        }
    }

    /**
     * A user's client that hangs up and comes straight back, 200 times over: every watch it opens
     * again is served at once, although the registry's keep-alive (15 s) is far off and nothing has
     * been written to the closed streams since; one watch beyond the limit is still refused.
     */
    @Test
    void watchesWhoseClientsHungUpGiveTheirPlacesToNewWatchesAtOnce() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        try (ConfigurableApplicationContext app = new SpringApplication(RegistryApplication.class).run("--server.port=0",
                "--fabric.registry.data-dir=" + dir.resolve("data"), "--fabric.security.keys-path=" + dir.resolve("keys"))) {
            String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
            int limit = app.getEnvironment().getProperty("fabric.registry.watch.max-streams", Integer.class, 200);
            assertThat(limit).isEqualTo(200);

            List<EventStreamSocket> first = openWatches(base, keys, limit);
            for (EventStreamSocket watch : first) {
                watch.close();
            }

            List<EventStreamSocket> again = openWatches(base, keys, limit);
            try (EventStreamSocket beyond = rawWatch(base, keys)) {
                assertThat(beyond.status()).isEqualTo(503);
                assertThat(beyond.header("Retry-After")).hasValue("1");
                assertThat(beyond.readBody()).contains("\"reason\":\"too-many-watches\"");
            }
            for (EventStreamSocket watch : again) {
                watch.close();
            }
        }
    }

    List<EventStreamSocket> openWatches(String base, FabricKeys keys, int count) throws Exception {
        List<EventStreamSocket> watches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            EventStreamSocket watch = rawWatch(base, keys);
            watches.add(watch);
            assertThat(watch.status()).as("watch %d of %d: %s", i + 1, count, watch.status() == 200 ? "" : watch.readBody())
                    .isEqualTo(200);
            String line;
            do {
                line = watch.readLine();
            } while (line != null && !line.startsWith(":watching changes"));
            assertThat(line).as("watch %d's first comment", i + 1).isNotNull();
        }
        return watches;
    }

    EventStreamSocket rawWatch(String base, FabricKeys keys) throws Exception {
        URI uri = URI.create(base + "/api/v1/watch");
        return EventStreamSocket.open(uri, new RequestSigner(keys, Clock.systemUTC()).sign("GET", uri, Map.of(), new byte[0]),
                Duration.ofSeconds(10));
    }

    HttpResponse<InputStream> watch(String base, FabricKeys keys) throws Exception {
        URI uri = URI.create(base + "/api/v1/watch");
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        new RequestSigner(keys, Clock.systemUTC()).sign("GET", uri, Map.of(), new byte[0]).forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    BufferedReader open(String base, FabricKeys keys) throws Exception {
        HttpResponse<InputStream> response = watch(base, keys);
        assertThat(response.statusCode()).isEqualTo(200);
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        assertThat(reader.readLine()).startsWith(":watching changes");
        return reader;
    }

    static String nextEventId(BufferedReader reader) throws Exception {
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.startsWith("id:")) {
                return line.substring(3).strip();
            }
        }
        throw new IllegalStateException("the stream ended");
    }
}
