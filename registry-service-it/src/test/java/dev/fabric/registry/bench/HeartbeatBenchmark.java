package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.registry.EmbeddedPostgres;
import dev.fabric.registry.RegistryClient;
import dev.fabric.registry.RegistryProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * On-demand benchmark, never part of the test suite:
 * {@code ./mvnw -pl registry-service verify -Dit.test=HeartbeatBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>Runs a real registry process on H2 and on PostgreSQL, and in each run measures, with the same
 * client, signed heartbeats against the same app's unsigned liveness probe (the baseline). Reports
 * throughput, p50 and p99 as the median of several rounds, and the ratio. Figures go to stdout and
 * {@code target/benchmarks/heartbeats.md}; copy them into docs/benchmarks.md.
 */
class HeartbeatBenchmark {

    static final int MEMBERS = 200;
    static final int CLIENTS = Integer.getInteger("bench.clients", 32);
    static final Duration ROUND = Duration.ofSeconds(Integer.getInteger("bench.seconds", 8));
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);

    @TempDir
    Path dir;

    record Result(double perSecond, double p50Millis, double p99Millis, long errors) {}

    @Test
    void heartbeatsOnH2AndPostgres() throws Exception {
        StringBuilder report = new StringBuilder();
        report.append("| database | signed heartbeats/s | p50 ms | p99 ms | unsigned liveness/s | p50 ms | p99 ms | ratio (signed/unsigned) |\n");
        report.append("|---|---|---|---|---|---|---|---|\n");
        report.append(run("H2 (file)", List.of()));
        report.append(run("PostgreSQL", List.of("--spring.datasource.url=" + EmbeddedPostgres.jdbcUrl(),
                "--spring.datasource.username=postgres", "--spring.datasource.password=postgres")));
        String text = "Heartbeat benchmark: " + CLIENTS + " concurrent clients, " + ROUNDS + " rounds of " + ROUND.toSeconds()
                + " s, median round reported; client and registry share this machine's " + Runtime.getRuntime().availableProcessors()
                + " cores.\n\n" + report;
        System.out.println(text);
        Files.createDirectories(Path.of("target", "benchmarks"));
        Files.writeString(Path.of("target", "benchmarks", "heartbeats.md"), text);
    }

    String run(String name, List<String> database) throws Exception {
        FabricKeys keys = FabricKeys.generate();
        Path keyDir = dir.resolve(name.replaceAll("\\W", "") + "-keys");
        keys.writeTo(keyDir);
        List<String> properties = new ArrayList<>(database);
        properties.add("--logging.level.dev.fabric=WARN");
        properties.add("--fabric.security.signature.replay-cache-capacity=5000000");
        try (RegistryProcess registry = new RegistryProcess(dir.resolve(name.replaceAll("\\W", "")), keyDir, properties)) {
            registry.start();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            IntFunction<HttpRequest> heartbeat = registeredHeartbeats(registry.url(), keys, MEMBERS);
            URI liveness = URI.create(registry.url() + "/actuator/health/liveness");
            IntFunction<HttpRequest> noop = n -> HttpRequest.newBuilder(liveness).GET().build();
            load(http, heartbeat, 204, Duration.ofSeconds(3));
            load(http, noop, 200, Duration.ofSeconds(2));
            List<Result> signed = new ArrayList<>();
            List<Result> unsigned = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                unsigned.add(load(http, noop, 200, ROUND));
                signed.add(load(http, heartbeat, 204, ROUND));
            }
            Result s = median(signed);
            Result u = median(unsigned);
            return String.format("| %s | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %.2f |%n", name, s.perSecond(), s.p50Millis(), s.p99Millis(),
                    u.perSecond(), u.p50Millis(), u.p99Millis(), s.perSecond() / u.perSecond())
                    + (s.errors() + u.errors() > 0 ? "(errors: " + s.errors() + " signed, " + u.errors() + " unsigned)\n" : "");
        }
    }

    /**
     * Registers {@code members} instances {@code m0, m1, ...} and answers, for the n-th request, a
     * signed heartbeat of one of them in turn.
     */
    static IntFunction<HttpRequest> registeredHeartbeats(String url, FabricKeys keys, int members) {
        RegistryClient client = new RegistryClient(url, keys);
        for (int i = 0; i < members; i++) {
            client.post("/api/v1/instances", Map.of("id", "m" + i, "type", "bench"));
        }
        RequestSigner signer = new RequestSigner(keys, Clock.systemUTC());
        return n -> {
            URI uri = URI.create(url + "/api/v1/instances/m" + (n % members) + "/heartbeat?incarnation=1");
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody());
            signer.sign("POST", uri, Map.of(), new byte[0]).forEach(request::header);
            return request.build();
        };
    }

    static Result median(List<Result> results) {
        List<Result> sorted = new ArrayList<>(results);
        sorted.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
        return sorted.get(sorted.size() / 2);
    }

    /** CLIENTS virtual threads send requests back to back for the duration; latencies in microseconds. */
    static Result load(HttpClient http, IntFunction<HttpRequest> requests, int expected, Duration duration) throws Exception {
        long end = System.nanoTime() + duration.toNanos();
        AtomicLong counter = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long[][] perClient = new long[CLIENTS][];
        List<Thread> threads = new ArrayList<>();
        long started = System.nanoTime();
        for (int c = 0; c < CLIENTS; c++) {
            int index = c;
            threads.add(Thread.ofVirtual().start(() -> {
                long[] latencies = new long[1 << 16];
                int n = 0;
                while (System.nanoTime() < end) {
                    HttpRequest request = requests.apply((int) counter.incrementAndGet());
                    long t0 = System.nanoTime();
                    try {
                        if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != expected) {
                            errors.incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                    if (n == latencies.length) {
                        latencies = Arrays.copyOf(latencies, n * 2);
                    }
                    latencies[n++] = (System.nanoTime() - t0) / 1000;
                }
                perClient[index] = Arrays.copyOf(latencies, n);
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long[] all = Arrays.stream(perClient).flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(all.length / seconds, all[all.length / 2] / 1000.0, all[(int) (all.length * 0.99)] / 1000.0, errors.get());
    }
}
