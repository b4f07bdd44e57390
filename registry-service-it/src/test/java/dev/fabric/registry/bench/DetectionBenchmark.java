package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.registry.EmbeddedPostgres;
import dev.fabric.registry.RegistryClient;
import dev.fabric.registry.RegistryProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * On-demand benchmark, never part of the test suite:
 * {@code ./mvnw -pl registry-service -am verify -Dit.test=DetectionBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.members=20000}).
 *
 * <p>Members heartbeat a real registry (PostgreSQL, default settings: 2 s interval, DEAD after 5
 * missed) at their interval over heartbeat streams, as fabric members do ({@link StreamMembers}).
 * Then half of them fall silent at once while the other half go on. For each silent member it
 * reports the time from its last heartbeat (as the registry recorded it) to its DEAD transition; the
 * goal is the threshold (10 s) plus at most one interval. A member that kept heartbeating and was
 * declared DEAD or SUSPECT is a false positive.
 *
 * <p>Open files are limited to 20,000 per process here, and each stream is a socket at both ends: past
 * 9,000 members the registry runs as two replicas on the same database (members alternate between
 * them; one holds the detector) and a second JVM runs half of the members.
 */
class DetectionBenchmark {

    static final int MEMBERS = Integer.getInteger("bench.members", 20_000);
    static final int PER_PROCESS = 9_000;
    /** Room for 10,000 streams and their signatures' replay cache: at 256m a replica spends its time in GC. */
    static final String REPLICA_HEAP = System.getProperty("bench.replica-heap", "1g");
    static final Duration INTERVAL = StreamMembers.INTERVAL;

    @TempDir
    Path dir;

    @Test
    void detectionTimeOverManyMembers() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        int replicas = MEMBERS > PER_PROCESS ? 2 : 1;
        List<RegistryProcess> registries = new ArrayList<>();
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
        try {
            for (int r = 0; r < replicas; r++) {
                RegistryProcess registry = new RegistryProcess(dir.resolve("data" + r), dir.resolve("keys"), List.of(
                        "--spring.datasource.url=" + EmbeddedPostgres.jdbcUrl(), "--spring.datasource.username=postgres",
                        "--spring.datasource.password=postgres", "--logging.level.dev.fabric=WARN",
                        "--fabric.security.signature.replay-cache-capacity=5000000", "--server.tomcat.max-connections=15000"),
                        REPLICA_HEAP);
                registries.add(registry);
                registry.start();
            }
            List<String> urls = registries.stream().map(RegistryProcess::url).toList();
            RegistryClient client = new RegistryClient(urls.getFirst(), keys);
            String run = "d" + System.nanoTime() % 100000 + "-";
            // Registrations and handshakes spread over the ramp (250/s), as a fabric grows; every member then heartbeats 12 s before half fall silent.
            long ramp = Math.max(8_000, 4L * MEMBERS);
            long silenceAt = System.currentTimeMillis() + ramp + 6 * INTERVAL.toMillis();
            long stopAt = silenceAt + 8 * INTERVAL.toMillis();
            int here = replicas == 1 ? MEMBERS : MEMBERS / 2;
            Process other = null;
            Path otherLog = dir.resolve("members.log");
            if (here < MEMBERS) {
                other = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx1g",
                        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), StreamMembers.class.getName(),
                        String.join(",", urls), dir.resolve("keys").toString(), run, String.valueOf(here), String.valueOf(MEMBERS),
                        String.valueOf(ramp), String.valueOf(silenceAt), String.valueOf(stopAt))
                        .redirectErrorStream(true).redirectOutput(otherLog.toFile()).start();
            }
            StreamMembers.Outcome outcome = StreamMembers.run(urls, keys, run, 0, here, ramp, silenceAt, stopAt);
            Instant silencedAt = Instant.ofEpochMilli(silenceAt);
            Instant stoppedAt = Instant.ofEpochMilli(stopAt);
            String otherOutcome = "";
            if (other != null) {
                other.waitFor();
                otherOutcome = Files.readAllLines(otherLog).stream().filter(line -> line.startsWith("OUTCOME")).findFirst()
                        .orElse("OUTCOME missing; log: " + Files.readString(otherLog));
            }
            Set<String> gaveUp = new HashSet<>(outcome.gaveUp());
            if (other != null) {
                Files.readAllLines(otherLog).stream().filter(line -> line.startsWith("GAVEUP ")).findFirst()
                        .ifPresent(line -> Arrays.stream(line.substring("GAVEUP ".length()).split(",")).filter(id -> !id.isBlank())
                                .forEach(gaveUp::add));
            }
            long failedBeats = outcome.failedBeats() + (otherOutcome.startsWith("OUTCOME ") && !otherOutcome.contains("missing")
                    ? Long.parseLong(otherOutcome.split(" ")[1]) : 0);
            String loadAfter = Files.readString(Path.of("/proc/loadavg")).strip();
            System.out.println("members in this JVM: " + outcome.describe() + "\nmembers in the second JVM: " + otherOutcome);
            // How the replicas recorded changes: changes per commit (count, sum, max) and the detector's lag.
            for (String url : urls) {
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/actuator/prometheus")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                metrics.lines().filter(line -> line.startsWith("fabric_registry_writes_batch")
                        || line.startsWith("fabric_registry_detector_lag_seconds_count") || line.startsWith("fabric_registry_detector_lag_seconds_max")).forEach(line -> System.out.println(url + " " + line));
            }

            List<Long> detection = new ArrayList<>();
            int falseDead = 0;
            int falseSuspect = 0;
            int undetected = 0;
            // Read back 32 at a time: a sequential read of 20,000 instances and histories would take minutes.
            List<JsonNode[]> read = new ArrayList<>();
            try (ExecutorService readers = Executors.newFixedThreadPool(32)) {
                List<Future<JsonNode[]>> reads = new ArrayList<>();
                for (int i = 0; i < MEMBERS; i++) {
                    String id = run + i;
                    reads.add(readers.submit(() -> new JsonNode[] {client.get("/api/v1/instances/" + id).body(),
                            client.get("/api/v1/instances/" + id + "/history").body()}));
                }
                for (Future<JsonNode[]> r : reads) {
                    read.add(r.get());
                }
            }
            int unregistered = 0;
            for (int i = 0; i < MEMBERS; i++) {
                JsonNode instance = read.get(i)[0];
                JsonNode history = read.get(i)[1];
                if (gaveUp.contains(run + i)) {
                    unregistered++; // its registration failed as far as it could tell, so it exited: it never ran
                    continue;
                }
                if (instance.path("lastHeartbeatAt").asString("").isEmpty()) {
                    unregistered++; // its registration was refused (see the failures by kind): it never ran
                    continue;
                }
                Instant dead = null;
                boolean suspected = false;
                for (JsonNode t : history) {
                    Instant at = Instant.parse(t.path("at").asString());
                    if ("DEAD".equals(t.path("to").asString()) && (i % 2 == 0 || at.isBefore(stoppedAt))) {
                        dead = at;
                    }
                    suspected |= "SUSPECT".equals(t.path("to").asString()) && at.isBefore(stoppedAt);
                }
                if (i % 2 == 0) {
                    if (dead == null) {
                        undetected++;
                    } else {
                        detection.add(Duration.between(Instant.parse(instance.path("lastHeartbeatAt").asString()), dead).toMillis());
                    }
                } else {
                    falseDead += dead != null ? 1 : 0;
                    falseSuspect += suspected ? 1 : 0;
                }
            }
            detection.sort(Long::compare);
            long threshold = INTERVAL.multipliedBy(5).toMillis();
            long within = detection.stream().filter(ms -> ms >= threshold && ms <= threshold + INTERVAL.toMillis()).count();
            String text = String.format("""
                    Detection benchmark (PostgreSQL, %d members on heartbeat streams, %d registry replicas, heartbeat every %d s, DEAD after 5 missed = %d ms; half silenced at %s; load average before %s, after %s):
                    | silent members detected | min ms | p50 ms | p99 ms | max ms | within threshold + 1 interval | undetected | false DEAD | false SUSPECT | failed heartbeats | never registered |
                    |---|---|---|---|---|---|---|---|---|---|---|
                    | %d of %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |
                    """, MEMBERS, replicas, INTERVAL.toSeconds(), threshold, silencedAt, loadBefore, loadAfter, detection.size(), MEMBERS / 2,
                    detection.getFirst(), detection.get(detection.size() / 2), detection.get((int) (detection.size() * 0.99)),
                    detection.getLast(), within, undetected, falseDead, falseSuspect, failedBeats, unregistered);
            System.out.println(text);
            Files.createDirectories(Path.of("target", "benchmarks"));
            Files.writeString(Path.of("target", "benchmarks", "detection.md"), text);
        } finally {
            for (RegistryProcess registry : registries) {
                registry.close();
            }
        }
    }
}
