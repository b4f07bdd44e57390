package dev.fabric.spawner.bench;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Spawn-to-RUNNING latency with the process launcher against the bare start-up of the same jar as
 * a member (JVM and Spring up, port ready),
 * measured in the same run (goal: bootstrap overhead under 50% of the bare start-up), and 20
 * concurrent spawns; and a member spawned by a member against one spawned by the root spawner
 * ({@code -Dit.test=SpawnBenchmark#spawnByAMemberAgainstSpawnByTheRootSpawner}). On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it verify -Dit.test=SpawnBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * Prints its figures; docs/benchmarks.md records them. No assertion on time: machines are noisy.
 */
class SpawnBenchmark {

    static final int ROUNDS = Integer.getInteger("spawn.rounds", 5);
    static final int CONCURRENT = Integer.getInteger("spawn.concurrent", 20);

    @TempDir
    Path dir;

    @Test
    void spawnToRunningAgainstBareStartUp() throws Exception {
        try (FabricUnderTest fabric = new FabricUnderTest(dir, "--fabric.spawner.bootstrap-timeout=600s",
                "--fabric.spawner.otp-ttl=600s")) {
            fabric.startSpawner();
            long[] bare = new long[ROUNDS];
            long[] spawn = new long[ROUNDS];
            long[] handshake = new long[ROUNDS];
            for (int round = 0; round < ROUNDS; round++) {
                bare[round] = bareStartUp(fabric, round);
                long start = System.nanoTime();
                String id = spawn(fabric);
                fabric.awaitState(id, InstanceState.RUNNING, 1);
                spawn[round] = System.nanoTime() - start;
                handshake[round] = handshake(fabric, id);
                fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
            }
            double bareMedian = median(bare);
            double spawnMedian = median(spawn);
            System.out.printf("SPAWN bare start-up median %.0f ms %s%n", bareMedian, millis(bare));
            System.out.printf("SPAWN spawn-to-RUNNING median %.0f ms %s%n", spawnMedian, millis(spawn));
            System.out.printf("SPAWN bootstrap overhead %.0f ms = %.0f%% of the bare start-up (goal < 50%%)%n",
                    spawnMedian - bareMedian, 100 * (spawnMedian - bareMedian) / bareMedian);
            System.out.printf("SPAWN handshake (password redeemed to RUNNING, from the registry's history) median %.0f ms %s = "
                    + "%.0f%% of the bare start-up%n", median(handshake), millis(handshake), 100 * median(handshake) / bareMedian);
            if (CONCURRENT == 0) {
                return;
            }

            long start = System.nanoTime();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                ids.add(spawn(fabric));
            }
            long[] each = new long[CONCURRENT];
            for (int i = 0; i < CONCURRENT; i++) {
                fabric.awaitState(ids.get(i), InstanceState.RUNNING, 1, java.time.Duration.ofMinutes(10));
                each[i] = System.nanoTime() - start;
            }
            long all = System.nanoTime() - start;
            System.out.printf("SPAWN %d concurrent spawns: all RUNNING after %.1f s (median member %.1f s; %.0f ms per member; "
                    + "as long as %.1f bare start-ups in sequence)%n", CONCURRENT, all / 1e9, median(each) / 1e3,
                    all / 1e6 / CONCURRENT, all / 1e6 / bareMedian);
        }
    }

    /**
     * Spawn to RUNNING of a member spawned by a member (over its management port) against one spawned
     * by the root spawner, alternating in the same run: what spawning through a member adds.
     */
    @Test
    void spawnByAMemberAgainstSpawnByTheRootSpawner() throws Exception {
        try (FabricUnderTest fabric = new FabricUnderTest(dir, "--fabric.spawner.bootstrap-timeout=600s",
                "--fabric.spawner.otp-ttl=600s")) {
            fabric.startSpawner();
            String parent = spawn(fabric, fabric.spawnerUrl());
            String management = fabric.awaitState(parent, InstanceState.RUNNING, 1).endpoints().get("management");
            long[] byRoot = new long[ROUNDS];
            long[] byMember = new long[ROUNDS];
            for (int round = 0; round < ROUNDS; round++) {
                byRoot[round] = spawnToRunning(fabric, fabric.spawnerUrl());
                byMember[round] = spawnToRunning(fabric, management);
            }
            System.out.printf("SPAWN by the root spawner: spawn-to-RUNNING median %.0f ms %s%n", median(byRoot), millis(byRoot));
            System.out.printf("SPAWN by a member: spawn-to-RUNNING median %.0f ms %s = %.2f x the root spawner's%n", median(byMember),
                    millis(byMember), median(byMember) / median(byRoot));
        }
    }

    private static long spawnToRunning(FabricUnderTest fabric, String node) throws InterruptedException {
        long start = System.nanoTime();
        String id = spawn(fabric, node);
        fabric.awaitState(id, InstanceState.RUNNING, 1, java.time.Duration.ofMinutes(10));
        long took = System.nanoTime() - start;
        fabric.signedClient(node).delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
        return took;
    }

    private static String spawn(FabricUnderTest fabric, String node) {
        JsonNode answer = fabric.signedClient(node).post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "queue")).retrieve().body(JsonNode.class);
        return answer.path("id").asString();
    }

    /** From the member's history: the keys released, then verified, configured, registered RUNNING. */
    private static long handshake(FabricUnderTest fabric, String id) {
        var history = fabric.registry.history(id);
        java.time.Instant redeemed = history.stream().filter(t -> t.reason().startsWith("one-time password redeemed"))
                .findFirst().orElseThrow().at();
        java.time.Instant running = history.stream().filter(t -> t.to() == InstanceState.RUNNING).findFirst().orElseThrow().at();
        return java.time.Duration.between(redeemed, running).toNanos();
    }

    private static String spawn(FabricUnderTest fabric) {
        JsonNode answer = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "queue")).retrieve().body(JsonNode.class);
        return answer.path("id").asString();
    }

    /**
     * The same jar with the same JVM flags as a member, started as a member whose spawner does not
     * answer: a member's port is ready before it dials its spawner, so this is the start-up alone.
     */
    private long bareStartUp(FabricUnderTest fabric, int round) throws Exception {
        int port;
        int silentSpawner;
        try (ServerSocket socket = new ServerSocket(0); ServerSocket other = new ServerSocket(0)) {
            port = socket.getLocalPort();
            silentSpawner = other.getLocalPort();
        }
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx192m",
                "-XX:ActiveProcessorCount=1", "-XX:TieredStopAtLevel=1", "-Dserver.address=127.0.0.1", "-jar",
                FabricUnderTest.SPAWNER_JAR.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("bare-" + round + ".log").toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("FABRIC_"));
        env.put("SPRING_PROFILES_ACTIVE", "member");
        env.put("FABRIC_SERVICE_ID", "bare-" + round);
        env.put("FABRIC_INCARNATION", "1");
        env.put("FABRIC_ROLE", "queue");
        env.put("FABRIC_SPAWNER_URL", "http://127.0.0.1:" + silentSpawner);
        env.put("FABRIC_SPAWNER_ID", "none");
        env.put("FABRIC_REGISTRY_URL", fabric.registryUrl);
        env.put("FABRIC_OTP", "unused");
        env.put("FABRIC_MANAGEMENT_PORT", Integer.toString(port));
        env.put("FABRIC_DATA_DIR", dir.resolve("bare-" + round).toString());
        long start = System.nanoTime();
        Process process = builder.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            while (true) {
                try {
                    HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.discarding());
                    if (ready.statusCode() == 200) {
                        return System.nanoTime() - start;
                    }
                } catch (java.io.IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(20);
            }
        } finally {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1e6;
    }

    private static String millis(long[] values) {
        return Arrays.toString(Arrays.stream(values).map(v -> v / 1_000_000).toArray());
    }
}
