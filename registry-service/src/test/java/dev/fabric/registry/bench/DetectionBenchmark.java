package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.registry.EmbeddedPostgres;
import dev.fabric.registry.RegistryClient;
import dev.fabric.registry.RegistryProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * On-demand benchmark, never part of the test suite:
 * {@code ./mvnw -pl registry-service verify -Dit.test=DetectionBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>1,000 members heartbeat a real registry (PostgreSQL, default settings: 2 s interval, DEAD after
 * 5 missed) at their interval. Then half of them fall silent at once while the other half go on. For
 * each silent member it reports the time from its last heartbeat (as the registry recorded it) to its
 * DEAD transition; the goal is the threshold (10 s) plus at most one interval. A member that kept
 * heartbeating and was declared DEAD is a false positive.
 */
class DetectionBenchmark {

    static final int MEMBERS = Integer.getInteger("bench.members", 1000);
    static final Duration INTERVAL = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    @Test
    void detectionTimeOverAThousandMembers() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        try (RegistryProcess registry = new RegistryProcess(dir.resolve("data"), dir.resolve("keys"), List.of(
                "--spring.datasource.url=" + EmbeddedPostgres.jdbcUrl(), "--spring.datasource.username=postgres",
                "--spring.datasource.password=postgres", "--logging.level.dev.fabric=WARN",
                "--fabric.security.signature.replay-cache-capacity=5000000"))) {
            registry.start();
            RegistryClient client = new RegistryClient(registry.url(), keys);
            String run = "d" + System.nanoTime() % 100000 + "-";
            AtomicBoolean silence = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong failedBeats = new AtomicLong();
            Map<String, Integer> failures = new java.util.concurrent.ConcurrentHashMap<>();
            AtomicLong slowest = new AtomicLong();
            AtomicLong slowBeats = new AtomicLong();
            List<Thread> members = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                String id = run + i;
                boolean dies = i % 2 == 0;
                long offset = (long) (4 * INTERVAL.toMillis() * (i / (double) MEMBERS));
                members.add(Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(offset);
                        // A member registers and heartbeats from then on, as a real one does.
                        RegistryClient.Answer registered = client.post("/api/v1/instances", Map.of("id", id, "type", "bench"));
                        if (registered.status() != 201) {
                            failures.merge("register " + registered.status() + " " + registered.reason(), 1, Integer::sum);
                        }
                        while (!stop.get() && !(dies && silence.get())) {
                            long t0 = System.nanoTime();
                            RegistryClient.Answer beat = client.heartbeat(id, 1);
                            long tookMs = (System.nanoTime() - t0) / 1_000_000;
                            slowest.accumulateAndGet(tookMs, Math::max);
                            if (tookMs > INTERVAL.toMillis()) {
                                slowBeats.incrementAndGet();
                            }
                            if (beat.status() != 204) {
                                failedBeats.incrementAndGet();
                                failures.merge("heartbeat " + beat.status() + " " + beat.reason(), 1, Integer::sum);
                            }
                            Thread.sleep(Math.max(0, INTERVAL.toMillis() - (System.nanoTime() - t0) / 1_000_000));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            Thread.sleep(14_000);
            silence.set(true);
            Instant silencedAt = Instant.now();
            Thread.sleep(16_000);
            // Live members stop here too; whatever happens to them after this instant is not a false positive.
            Instant stoppedAt = Instant.now();
            stop.set(true);
            for (Thread member : members) {
                member.join();
            }

            List<Long> detection = new ArrayList<>();
            int falseDead = 0;
            int falseSuspect = 0;
            int undetected = 0;
            for (int i = 0; i < MEMBERS; i++) {
                String id = run + i;
                JsonNode instance = client.get("/api/v1/instances/" + id).body();
                JsonNode history = client.get("/api/v1/instances/" + id + "/history").body();
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
                    Detection benchmark (PostgreSQL, %d members, heartbeat every %d s, DEAD after 5 missed = %d ms; half silenced at %s):
                    | silent members detected | min ms | p50 ms | p99 ms | max ms | within threshold + 1 interval | undetected | false DEAD | false SUSPECT | failed heartbeats |
                    |---|---|---|---|---|---|---|---|---|---|
                    | %d of %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |
                    """, MEMBERS, INTERVAL.toSeconds(), threshold, silencedAt, detection.size(), MEMBERS / 2,
                    detection.getFirst(), detection.get(detection.size() / 2), detection.get((int) (detection.size() * 0.99)),
                    detection.getLast(), within, undetected, falseDead, falseSuspect, failedBeats.get());
            System.out.println(text);
            System.out.println("failures by kind: " + failures + "; slowest heartbeat " + slowest.get() + " ms; heartbeats slower than one interval: "
                    + slowBeats.get());
            Files.createDirectories(Path.of("target", "benchmarks"));
            Files.writeString(Path.of("target", "benchmarks", "detection.md"), text);
        }
    }
}
