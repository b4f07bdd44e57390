package dev.fabric.spawner.bench;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.FabricUnderTest;
import dev.fabric.spawner.reach.Circuit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mode 4's fallback against a direct connection, same run (docs/benchmarks.md): a direct TCP
 * connection and a circuit through a bridge ({@link Circuit}: a connection from each side to the
 * bridge's relay port, the bridge copying between them), each carrying {@code bench.bytes} (64 MiB) one way, {@code bench.rounds}
 * (5) rounds interleaved, medians. On loopback: what the relay adds is what is measured. A spliced
 * connection cannot open on loopback (nothing drops the early SYN) and is an ordinary TCP
 * connection once open: its throughput, and the relay's across the lab's links, are measured by
 * {@code SpliceBenchmark}. Also says what the bridge's process spent per MiB relayed (CPU, system calls). On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=RelayBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * Prints its figures. No assertion on time: machines are noisy.
 */
class RelayBenchmark {

    static final long BYTES = Long.getLong("bench.bytes", 64L * 1024 * 1024);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
    /** Extra JVM options for the bridge member (comma-separated), e.g. a flight recording. */
    static final String BRIDGE_JVM = System.getProperty("bench.bridgeJvm", "");

    @TempDir
    Path dir;

    @Test
    void relayedThroughputAgainstDirect() throws Exception {
        try (FabricUnderTest fabric = new FabricUnderTest(dir, "--fabric.spawner.bootstrap-timeout=300s", "--fabric.spawner.otp-ttl=300s",
                "--fabric.spawner.process.jvm-options=" + BRIDGE_JVM)) {
            fabric.startSpawner();
            JsonNode spawned = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("type", "bridge", "config", Map.of("max-circuit-bytes", "256MB"))).retrieve().body(JsonNode.class);
            ServiceInstance bridge = fabric.awaitState(spawned.path("id").asString(), InstanceState.RUNNING, 1, Duration.ofMinutes(5));
            URI relay = URI.create(bridge.endpoints().get("relay"));
            long pid = Long.parseLong(bridge.metadata().get("pid"));
            double[] direct = new double[ROUNDS];
            double[] relayed = new double[ROUNDS];
            long[] cost = new long[3];
            for (int round = 0; round < ROUNDS; round++) {
                direct[round] = direct();
                long[] before = bridgeCost(pid);
                relayed[round] = relayed(fabric, relay, round);
                long[] after = bridgeCost(pid);
                for (int i = 0; i < cost.length; i++) {
                    cost[i] += after[i] - before[i];
                }
            }
            double d = median(direct);
            double r = median(relayed);
            double mib = (double) ROUNDS * BYTES / (1 << 20);
            System.out.printf("RELAY %d MiB x %d rounds: direct %.0f MB/s %s, relayed %.0f MB/s (%.2fx) %s; load %s%n"
                            + "the bridge per MiB relayed: %.2f ms of CPU, %.1f reads and %.1f writes (system calls)%n",
                    BYTES >> 20, ROUNDS, d, Arrays.toString(direct), r, r / d, Arrays.toString(relayed),
                    Files.readString(Path.of("/proc/loadavg")).strip(), cost[0] * 10 / mib, cost[1] / mib, cost[2] / mib);
            assertThat(r).isPositive();
        }
    }

    /**
     * What the bridge's process has spent so far: CPU in clock ticks (user and system, /proc/PID/stat, 100 a
     * second) and its read and write system calls (/proc/PID/io), the profile of a relayed byte's cost.
     */
    private static long[] bridgeCost(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        long reads = 0;
        long writes = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("syscr:")) {
                reads = Long.parseLong(line.substring(6).strip());
            } else if (line.startsWith("syscw:")) {
                writes = Long.parseLong(line.substring(6).strip());
            }
        }
        return new long[] {ticks, reads, writes};
    }

    private static double direct() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket sender = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket receiver = listener.accept()) {
            return transfer(sender, receiver);
        }
    }

    private static double relayed(FabricUnderTest fabric, URI relay, int round) throws Exception {
        String rendezvous = "rv-bench-relay-" + round;
        CompletableFuture<Socket> other = CompletableFuture.supplyAsync(() -> {
            try {
                return Circuit.open(relay, rendezvous, null, Duration.ofSeconds(60));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (Socket sender = Circuit.open(relay, rendezvous, fabric.keys, Duration.ofSeconds(60));
             Socket receiver = other.get(60, TimeUnit.SECONDS)) {
            return transfer(sender, receiver);
        }
    }

    /** Sends {@link #BYTES} from one end and reads them all at the other: MB/s (10^6 bytes). */
    private static double transfer(Socket sender, Socket receiver) throws Exception {
        byte[] chunk = new byte[64 * 1024];
        long start = System.nanoTime();
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
            try {
                OutputStream out = sender.getOutputStream();
                for (long left = BYTES; left > 0; left -= chunk.length) {
                    out.write(chunk, 0, (int) Math.min(chunk.length, left));
                }
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        InputStream in = receiver.getInputStream();
        byte[] buffer = new byte[64 * 1024];
        long received = 0;
        while (received < BYTES) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new IOException("closed after " + received + " bytes");
            }
            received += n;
        }
        sent.get(60, TimeUnit.SECONDS);
        return BYTES / 1e6 / ((System.nanoTime() - start) / 1e9);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
