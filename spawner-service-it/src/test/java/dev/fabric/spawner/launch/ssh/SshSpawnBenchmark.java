package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spawn-to-RUNNING over SSH (a real sshd on loopback, so the figure is the launcher's own cost:
 * session, checks, staging, the remote start) against the process launcher, in the same run, by
 * the same spawner, alternating. The first SSH spawn, which copies the distribution, is reported
 * apart. On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=SshSpawnBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * Prints its figures; docs/benchmarks.md records them. No assertion on time: machines are noisy.
 */
class SshSpawnBenchmark {

    static final int ROUNDS = Integer.getInteger("spawn.rounds", 5);

    @TempDir
    Path dir;

    @Test
    void spawnToRunningOverSshAgainstTheProcessLauncher() throws Exception {
        Sshd.assumeAvailable();
        try (Sshd sshd = new Sshd(dir.resolve("sshd"))) {
            List<String> properties = new ArrayList<>(List.of("--fabric.spawner.bootstrap-timeout=600s", "--fabric.spawner.otp-ttl=600s"));
            properties.addAll(sshd.hostProperties("loop"));
            try (FabricUnderTest fabric = new FabricUnderTest(dir.resolve("fabric"), properties.toArray(String[]::new))) {
                fabric.startSpawner();
                long first = timeToRunning(fabric, "loop", new long[1], 0);
                long[] process = new long[ROUNDS];
                long[] ssh = new long[ROUNDS];
                long[] processLaunch = new long[ROUNDS];
                long[] sshLaunch = new long[ROUNDS];
                for (int round = 0; round < ROUNDS; round++) {
                    process[round] = timeToRunning(fabric, null, processLaunch, round);
                    ssh[round] = timeToRunning(fabric, "loop", sshLaunch, round);
                }
                double processMedian = median(process);
                double sshMedian = median(ssh);
                System.out.printf("SSH first spawn on the host (staging the distribution) %.0f ms%n", first / 1e6);
                System.out.printf("SSH process launcher spawn-to-RUNNING median %.0f ms %s%n", processMedian, millis(process));
                System.out.printf("SSH ssh launcher spawn-to-RUNNING median %.0f ms %s%n", sshMedian, millis(ssh));
                System.out.printf("SSH ratio ssh/process %.2f (the SSH launcher adds %.0f ms)%n", sshMedian / processMedian,
                        sshMedian - processMedian);
                System.out.printf("SSH launch step alone (password issued to launched, from the history): process median %.0f ms %s, "
                        + "ssh median %.0f ms %s%n", median(processLaunch), millis(processLaunch), median(sshLaunch), millis(sshLaunch));
            }
        }
    }

    /** Spawn to RUNNING; {@code launch[round]} gets the launcher's own step: password issued to launched. */
    private static long timeToRunning(FabricUnderTest fabric, String host, long[] launch, int round) throws InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "queue");
        if (host != null) {
            body.put("host", host);
        }
        long start = System.nanoTime();
        String id = fabric.spawn(body);
        fabric.awaitState(id, InstanceState.RUNNING, 1, java.time.Duration.ofMinutes(10));
        long took = System.nanoTime() - start;
        var history = fabric.registry.history(id);
        java.time.Instant issued = history.stream().filter(t -> t.reason().startsWith("one-time password issued")).findFirst()
                .orElseThrow().at();
        java.time.Instant launched = history.stream().filter(t -> t.reason().startsWith("launched by the")).findFirst().orElseThrow().at();
        launch[round] = java.time.Duration.between(issued, launched).toNanos();
        fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
        return took;
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return (sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0) / 1e6;
    }

    private static String millis(long[] nanos) {
        return Arrays.toString(Arrays.stream(nanos).map(n -> n / 1_000_000).toArray());
    }
}
