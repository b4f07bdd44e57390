package dev.fabric.spawner.bench;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.FabricUnderTest;
import dev.fabric.spawner.reach.Circuit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mode 4's fallback against a direct connection, same run (docs/benchmarks.md): a direct TCP
 * connection and a circuit through a bridge ({@link Circuit}: a connection from each side to the
 * bridge's relay port, the bridge copying between them), each carrying {@code bench.bytes} (64 MiB) one way, {@code bench.rounds}
 * (5) rounds interleaved, medians. On loopback: what the relay adds is what is measured. A spliced
 * connection cannot open on loopback (nothing drops the early SYN) and is an ordinary TCP
 * connection once open: its throughput, and the relay's across the lab's links, are measured by
 * {@code SpliceBenchmark}.
 *
 * <p>Beside them, the ceiling of any relay on this machine: the same bytes through a relay in C
 * ({@code src/test/c/relay.c}, compiled here with gcc), once with splice(2) through a pipe (no copy in
 * its user space) and once with reads and writes through a buffer of the bridge's slice. The four paths
 * take turns in a rotating order; for each, what each process spent per MiB carried (CPU from
 * /proc/PID/stat: the test JVM, which holds both ends, and the relay's process; read and write system
 * calls from /proc/PID/io) and the whole machine's busy time (/proc/stat, other work included). On
 * demand, not part of the suite:
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
    /** The C relays' largest splice or read ({@code relay.c}'s CHUNK): the bridge's 64 KiB slice. */
    static final int C_CHUNK = Integer.getInteger("bench.cChunk", 64 * 1024);

    /** One way of carrying the bytes; {@code relayPid} 0 when nothing relays them. */
    private record Carrier(String name, long relayPid, Transfer transfer) {
    }

    @FunctionalInterface
    private interface Transfer {
        double run(int round) throws Exception;
    }

    @TempDir
    Path dir;

    @Test
    void relayedThroughputAgainstDirect() throws Exception {
        Path relayC = compileC("relay");
        try (FabricUnderTest fabric = new FabricUnderTest(dir, "--fabric.spawner.bootstrap-timeout=300s", "--fabric.spawner.otp-ttl=300s",
                "--fabric.spawner.process.jvm-options=" + BRIDGE_JVM);
             CRelay splice = CRelay.start(relayC, "splice");
             CRelay copy = CRelay.start(relayC, "copy")) {
            fabric.startSpawner();
            JsonNode spawned = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("type", "bridge", "config", Map.of("max-circuit-bytes", "256MB"))).retrieve().body(JsonNode.class);
            ServiceInstance bridge = fabric.awaitState(spawned.path("id").asString(), InstanceState.RUNNING, 1, Duration.ofMinutes(5));
            URI relay = URI.create(bridge.endpoints().get("relay"));
            long bridgePid = Long.parseLong(bridge.metadata().get("pid"));
            List<Carrier> carriers = List.of(
                    new Carrier("direct TCP", 0, round -> direct()),
                    new Carrier("C relay, splice(2)", splice.pid(), round -> viaC(splice.port())),
                    new Carrier("C relay, read/write", copy.pid(), round -> viaC(copy.port())),
                    new Carrier("the bridge's circuit", bridgePid, round -> relayed(fabric, relay, round)));
            long self = ProcessHandle.current().pid();
            double[][] rates = new double[carriers.size()][ROUNDS];
            long[][] cost = new long[carriers.size()][5];
            String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
            for (int round = 0; round < ROUNDS; round++) {
                for (int turn = 0; turn < carriers.size(); turn++) {
                    int i = (turn + round) % carriers.size();
                    Carrier carrier = carriers.get(i);
                    long[] before = cost(self, carrier.relayPid());
                    rates[i][round] = carrier.transfer().run(round);
                    long[] after = cost(self, carrier.relayPid());
                    for (int k = 0; k < before.length; k++) {
                        cost[i][k] += after[k] - before[k];
                    }
                }
            }
            double mib = (double) ROUNDS * BYTES / (1 << 20);
            double direct = median(rates[0]);
            StringBuilder table = new StringBuilder();
            for (int i = 0; i < carriers.size(); i++) {
                double rate = median(rates[i]);
                long[] c = cost[i];
                table.append(String.format("| %s | %.0f | %s | %.2fx | %.2f | %s | %s | %.2f |%n", carriers.get(i).name(), rate,
                        Arrays.stream(rates[i]).mapToObj(r -> String.format("%.0f", r)).collect(Collectors.joining(" / ")), rate / direct,
                        c[0] * 10 / mib, carriers.get(i).relayPid() == 0 ? "-" : String.format("%.2f", c[1] * 10 / mib),
                        carriers.get(i).relayPid() == 0 ? "-" : String.format("%.1f / %.1f", c[2] / mib, c[3] / mib), c[4] * 10 / mib));
            }
            System.out.printf("""
                    RELAY %d MiB x %d rounds, C relays' chunk %d bytes; load %s before, %s after
                    | path | MB/s (median) | rounds | against direct | ms CPU per MiB: the ends' JVM | the relay's process | its reads / writes per MiB | the machine (busy, all cores) |
                    |---|---|---|---|---|---|---|---|
                    %s""", BYTES >> 20, ROUNDS, C_CHUNK, loadBefore, Files.readString(Path.of("/proc/loadavg")).strip(), table);
            assertThat(median(rates[3])).isPositive();
        }
    }

    /** A C relay ({@code relay.c}) as a process: its port, its pid; ends when its standard input closes. */
    private record CRelay(Process process, int port) implements AutoCloseable {

        static CRelay start(Path binary, String mode) throws IOException {
            Process process = new ProcessBuilder(binary.toString(), mode, Integer.toString(C_CHUNK))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (line == null) {
                process.destroy();
                throw new IOException("the C relay (" + mode + ") printed no port");
            }
            return new CRelay(process, Integer.parseInt(line.strip()));
        }

        long pid() {
            return process.pid();
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Compiles {@code src/test/c/NAME.c} with gcc into the test's directory. */
    private Path compileC(String name) throws Exception {
        Path binary = dir.resolve(name);
        Process gcc = new ProcessBuilder("gcc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O2", "-pthread", "-o",
                binary.toString(), Path.of("src/test/c", name + ".c").toString()).redirectErrorStream(true).start();
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0).as("gcc: " + output).isTrue();
        return binary;
    }

    /**
     * What has been spent so far: the ends' JVM's CPU and the relay's (clock ticks, user and system,
     * /proc/PID/stat, 100 a second), the relay's read and write system calls (/proc/PID/io), and the
     * machine's busy ticks over all cores (/proc/stat: everything but idle and iowait, others' work too).
     */
    private static long[] cost(long ends, long relay) throws IOException {
        long[] io = relay == 0 ? new long[2] : systemCalls(relay);
        return new long[] {ticks(ends), relay == 0 ? 0 : ticks(relay), io[0], io[1], machineBusy()};
    }

    private static long ticks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static long[] systemCalls(long pid) throws IOException {
        long reads = 0;
        long writes = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("syscr:")) {
                reads = Long.parseLong(line.substring(6).strip());
            } else if (line.startsWith("syscw:")) {
                writes = Long.parseLong(line.substring(6).strip());
            }
        }
        return new long[] {reads, writes};
    }

    private static long machineBusy() throws IOException {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
        long busy = 0;
        for (int i = 1; i < cpu.length && i <= 8; i++) {
            if (i != 4 && i != 5) {
                busy += Long.parseLong(cpu[i]);
            }
        }
        return busy;
    }

    private static double direct() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket sender = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket receiver = listener.accept()) {
            return transfer(sender, receiver);
        }
    }

    /** Through a C relay: the sender connects first, the receiver second; the relay carries both ways. */
    private static double viaC(int port) throws Exception {
        try (Socket sender = new Socket(InetAddress.getLoopbackAddress(), port);
             Socket receiver = new Socket(InetAddress.getLoopbackAddress(), port)) {
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
