package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.registry.EmbeddedPostgres;
import dev.fabric.registry.RegistryProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * On-demand benchmark, never part of the test suite:
 * {@code ./mvnw -pl registry-service -am verify -Dit.test=WatchLoadBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>Do open watch streams slow heartbeats down? A real registry process on H2 and on PostgreSQL;
 * in each run, signed heartbeats with no watch open (the baseline), then with {@value #WATCHES}
 * watch streams open (each read by its client), alternating, median of several rounds, and the
 * ratio. Figures go to stdout and {@code target/benchmarks/watches.md}; copy them into
 * docs/benchmarks.md.
 */
class WatchLoadBenchmark {

    static final int WATCHES = Integer.getInteger("bench.watches", 50);
    static final int MEMBERS = 200;

    @TempDir
    Path dir;

    @Test
    void heartbeatsWithAndWithoutOpenWatches() throws Exception {
        StringBuilder report = new StringBuilder();
        report.append("| database | heartbeats/s, no watch | p50 ms | p99 ms | heartbeats/s, ").append(WATCHES)
                .append(" watches | p50 ms | p99 ms | ratio (with/without) |\n|---|---|---|---|---|---|---|---|\n");
        report.append(run("H2 (file)", List.of()));
        report.append(run("PostgreSQL", List.of("--spring.datasource.url=" + EmbeddedPostgres.jdbcUrl(),
                "--spring.datasource.username=postgres", "--spring.datasource.password=postgres")));
        String text = "Watch load benchmark: " + HeartbeatBenchmark.CLIENTS + " heartbeat clients, " + HeartbeatBenchmark.ROUNDS
                + " rounds of " + HeartbeatBenchmark.ROUND.toSeconds() + " s each way, median round reported; client and registry "
                + "share this machine's " + Runtime.getRuntime().availableProcessors() + " cores.\n\n" + report;
        System.out.println(text);
        Files.createDirectories(Path.of("target", "benchmarks"));
        Files.writeString(Path.of("target", "benchmarks", "watches.md"), text);
    }

    String run(String name, List<String> database) throws Exception {
        FabricKeys keys = FabricKeys.generate();
        Path keyDir = dir.resolve(name.replaceAll("\\W", "") + "-keys");
        keys.writeTo(keyDir);
        List<String> properties = new ArrayList<>(database);
        properties.add("--logging.level.dev.fabric=WARN");
        properties.add("--fabric.security.signature.replay-cache-capacity=5000000");
        // Closed streams leave at their next keep-alive: soon, so the next baseline round runs without them.
        properties.add("--fabric.registry.watch.keep-alive=1s");
        try (RegistryProcess registry = new RegistryProcess(dir.resolve(name.replaceAll("\\W", "")), keyDir, properties)) {
            registry.start();
            RequestSigner signer = new RequestSigner(keys, Clock.systemUTC());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            IntFunction<HttpRequest> heartbeat = HeartbeatBenchmark.registeredHeartbeats(registry.url(), keys, MEMBERS);
            HeartbeatBenchmark.load(http, heartbeat, 204, Duration.ofSeconds(3));
            List<HeartbeatBenchmark.Result> without = new ArrayList<>();
            List<HeartbeatBenchmark.Result> with = new ArrayList<>();
            for (int round = 0; round < HeartbeatBenchmark.ROUNDS; round++) {
                without.add(HeartbeatBenchmark.load(http, heartbeat, 204, HeartbeatBenchmark.ROUND));
                List<InputStream> watches = openWatches(registry.url(), signer);
                with.add(HeartbeatBenchmark.load(http, heartbeat, 204, HeartbeatBenchmark.ROUND));
                for (InputStream watch : watches) {
                    watch.close();
                }
                Thread.sleep(3_000);
            }
            HeartbeatBenchmark.Result w = HeartbeatBenchmark.median(with);
            HeartbeatBenchmark.Result o = HeartbeatBenchmark.median(without);
            return String.format("| %s | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %.2f |%n", name, o.perSecond(), o.p50Millis(),
                    o.p99Millis(), w.perSecond(), w.p50Millis(), w.p99Millis(), w.perSecond() / o.perSecond())
                    + (w.errors() + o.errors() > 0 ? "(errors: " + o.errors() + " without, " + w.errors() + " with watches)\n" : "");
        }
    }

    /** Opens the watches, each drained by its own virtual thread until its stream is closed. */
    static List<InputStream> openWatches(String url, RequestSigner signer) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<InputStream> watches = new ArrayList<>();
        for (int i = 0; i < WATCHES; i++) {
            URI uri = URI.create(url + "/api/v1/watch");
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
            signer.sign("GET", uri, Map.of(), new byte[0]).forEach(request::header);
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("watch " + i + " answered " + response.statusCode());
            }
            InputStream body = response.body();
            watches.add(body);
            Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[4096];
                try {
                    while (body.read(buffer) >= 0) {
                        // drained
                    }
                } catch (Exception closed) {
                    // the stream was closed
                }
            });
        }
        return watches;
    }
}
