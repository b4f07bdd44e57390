package dev.fabric.escrow.bench;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.daemon.EscrowdConfig;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.testing.CEscrowd;
import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On-demand benchmark, never part of the test suite:
 * {@code ./mvnw -B -pl escrow-sidecar/escrow -am verify -Dit.test=EscrowBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.ops=20000 -Dbench.rounds=5 -Dbench.descriptors=100000}).
 *
 * <ul>
 * <li>{@link #addGetRoundTripAgainstBarePingPong}: an ADD carrying a TCP socket then a GET returning
 *     it, through the real client and an in-process escrowd, against a bare junixsocket ping-pong
 *     that sends the same bytes and passes the same descriptor both ways (SCM_RIGHTS) with no
 *     protocol, no slot table and no revived channel: the floor. Alternating rounds in one run,
 *     median round reported.</li>
 * <li>{@link #hundredThousandDescriptors}: escrowd as a process of the distribution (its
 *     RLIMIT_NOFILE raised with {@code ulimit -n}; where the hard limit cannot be raised, as for root
 *     without CAP_SYS_RESOURCE in a container, as many as fit under it, the report says how many)
 *     holds that many connected UNIX stream sockets;
 *     resident memory per held descriptor from {@code /proc/PID/status}, and the time a freshly
 *     started client process (a service after its restart) takes to GET them all back.</li>
 * </ul>
 * Figures go to stdout and {@code target/benchmarks/escrow.md}; copy them into docs/benchmarks.md.
 */
class EscrowBenchmark {

    static final int OPS = Integer.getInteger("bench.ops", 20_000);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
    static final int DESCRIPTORS = Integer.getInteger("bench.descriptors", 100_000);
    static final int PAYLOAD = 16;
    /** Added to bin/escrow's JVM options for the daemon, e.g. {@code -XX:TieredStopAtLevel=4} for the full JIT the sidecar has. */
    static final String DAEMON_JAVA_OPTS = System.getProperty("bench.daemonJavaOpts", "");

    @TempDir
    Path dir;

    record Round(double opsPerSecond, double p50Micros, double p99Micros) {
    }

    interface Op {
        void run() throws IOException;
    }

    @Test
    void addGetRoundTripAgainstBarePingPong() throws Exception {
        byte[] payload = "client 123456789".getBytes(StandardCharsets.US_ASCII);
        assertThat(payload).hasSize(PAYLOAD);
        List<Round> bare = new ArrayList<>();
        List<Round> escrow = new ArrayList<>();
        try (TcpPair tcp = TcpPair.open();
             Escrowd escrowd = Escrowd.start(EscrowdConfig.of(dir.resolve("escrow.sock")).withNrTags(2));
             Escrow client = Escrow.open(escrowd.path(), 0, 2);
             BarePingPong pingPong = BarePingPong.start(dir.resolve("bare.sock"))) {
            FileDescriptor fd = Descriptors.of(tcp.accepted);
            Op escrowOp = () -> {
                client.add(0, 0, fd, payload);
                Slot slot = client.get(0, 0);
                slot.socketChannel().close(); // our copy only
            };
            Op bareOp = () -> pingPong.roundTrip(fd, payload);
            measure(bareOp, OPS); // warm-up: JIT, buffers
            measure(escrowOp, OPS);
            for (int round = 0; round < ROUNDS; round++) {
                bare.add(measure(bareOp, OPS));
                escrow.add(measure(escrowOp, OPS));
            }
            assertThat(escrowd.stats().descriptors()).isEqualTo(1);
            TcpPair.assertTalks(tcp.client, tcp.accepted, "the socket survived " + (ROUNDS + 1) * OPS + " trips");
        }
        Round b = median(bare);
        Round e = median(escrow);
        String text = String.format(Locale.ROOT, """
                ADD+GET round trip: %d rounds of %d operations after one warm-up round each, alternating; median round.
                One client on one thread, daemon in the same JVM; %d cores shared.

                | run | operations/s | p50 µs | p99 µs |
                |---|---|---|---|
                | bare AF_UNIX SCM_RIGHTS ping-pong (2 round trips, descriptor both ways) | %,.0f | %.1f | %.1f |
                | escrow ADD + GET (client, escrowd, revived JDK channel) | %,.0f | %.1f | %.1f |
                | ratio escrow / bare | %.2fx slower | %.2fx | %.2fx |
                """, ROUNDS, OPS, Runtime.getRuntime().availableProcessors(), b.opsPerSecond(), b.p50Micros(), b.p99Micros(),
                e.opsPerSecond(), e.p50Micros(), e.p99Micros(), b.opsPerSecond() / e.opsPerSecond(), e.p50Micros() / b.p50Micros(),
                e.p99Micros() / b.p99Micros());
        report("escrow-roundtrip.md", text + "\nall rounds, bare: " + bare + "\nall rounds, escrow: " + escrow + "\n");
    }

    @Test
    void hundredThousandDescriptors() throws Exception {
        String dist = System.getProperty("escrow.dist");
        assertThat(dist).as("escrow.dist is set by the Failsafe configuration").isNotNull();
        Path socket = dir.resolve("escrow.sock");
        Path daemonLog = dir.resolve("daemon.log");
        // Root without CAP_SYS_RESOURCE (a container) cannot raise the hard limit: hold what fits under it, and say so.
        long limit = openFileLimitWeCanGet();
        int count = (int) Math.min(DESCRIPTORS, limit - 1_000);
        String limitNote = count == DESCRIPTORS ? "RLIMIT_NOFILE raised to " + String.format(Locale.ROOT, "%,d", limit) + " with ulimit -n"
                : String.format(Locale.ROOT, "RLIMIT_NOFILE could not be raised above its hard limit of %,d on this machine"
                        + " (no CAP_SYS_RESOURCE), so %,d descriptors instead of %,d", limit, count, DESCRIPTORS);
        // bin/escrow execs java, and bash execs bin/escrow: the process we start is the daemon's JVM.
        ProcessBuilder daemonProcess = raisedLimit(List.of(Path.of(dist, "bin", "escrow").toString(), "daemon", "-t", "2", socket.toString()));
        daemonProcess.environment().put("ESCROW_JAVA_OPTS", DAEMON_JAVA_OPTS);
        Process daemon = daemonProcess.redirectErrorStream(true).redirectOutput(daemonLog.toFile()).start();
        try {
            awaitLine(daemonLog, "Listening on", Duration.ofSeconds(30));
            Thread.sleep(2_000); // let the JVM settle after start
            long rssStart = rssKiB(daemon.pid());
            long heapStart = heapUsedAfterFullGcKiB(daemon.pid());

            long addStarted = System.nanoTime();
            UnixDomainSocketAddress clients = UnixDomainSocketAddress.of(dir.resolve("clients.sock"));
            try (Escrow adder = Escrow.open(socket, 0, 2);
                 ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(clients)) {
                for (int idx = 0; idx < count; idx++) {
                    // A connected UNIX stream socket, as a service's accepted client: JDK channels, closing ours closes our copy only.
                    try (SocketChannel peer = SocketChannel.open(clients); SocketChannel accepted = listener.accept()) {
                        adder.add(1, idx, accepted, String.format(Locale.ROOT, "client %09d", idx).getBytes(StandardCharsets.US_ASCII));
                    }
                }
                assertThat(adder.tag(1).slots()).isEqualTo(count);
            }
            double addSeconds = (System.nanoTime() - addStarted) / 1e9;
            Thread.sleep(1_000);
            long rssHolding = rssKiB(daemon.pid());
            long heapHolding = heapUsedAfterFullGcKiB(daemon.pid());
            long rssAfterGc = rssKiB(daemon.pid());
            long fds = Files.list(Path.of("/proc", Long.toString(daemon.pid()), "fd")).count();

            List<String> recoveries = new ArrayList<>();
            Recovery sequential = new Recovery();
            Recovery pipelined = new Recovery();
            Recovery bulk = new Recovery();
            Recovery bulkAot = new Recovery();
            // A JDK 25 AOT cache (JEP 514), made by one training recovery: the service's JVM starting with its classes loaded and linked.
            Path aotCache = dir.resolve("recover.aot");
            recoverInAFreshProcess(socket, List.of("-XX:AOTCacheOutput=" + aotCache), "bulk");
            for (int run = 0; run < 3; run++) {
                recover(socket, count, recoveries, sequential, List.of());
                recover(socket, count, recoveries, pipelined, List.of(), "pipelined", "256");
                recover(socket, count, recoveries, bulk, List.of(), "bulk");
                recover(socket, count, recoveries, bulkAot, List.of("-XX:AOTCache=" + aotCache), "bulk");
            }
            String text = String.format(Locale.ROOT, """
                    %,d descriptors held (connected UNIX stream sockets, a %d-byte payload each) by escrowd from the
                    distribution (bin/escrow daemon: Serial GC, C1%s); %s.

                    | measure | value |
                    |---|---|
                    | descriptors open in the daemon (/proc/PID/fd) | %,d |
                    | RSS at start / holding / after a full GC | %,d / %,d / %,d KiB |
                    | RSS per held descriptor ((holding - start) / count) | %.2f KiB |
                    | live heap after full GC, start / holding | %,d / %,d KiB |
                    | live heap per held descriptor | %.0f bytes |
                    | time to ADD them all (one client, one socketpair made per ADD) | %.2f s |

                    Recovery: GET every slot back from a freshly started client JVM (the service after its restart), holding
                    the revived channels; median of 3 processes. "warm": the same again inside that JVM afterwards.

                    | recovery | all %,d | per descriptor | scaled to %,d |
                    |---|---|---|---|
                    | client library, one GET at a time, fresh JVM | %.2f s | %.1f µs | %.2f s |
                    | the same, warm JVM | %.2f s | %.1f µs | %.2f s |
                    | pipelined, 256 GETs in flight (our escrowd only), fresh JVM | %.2f s | %.1f µs | %.2f s |
                    | the same, warm JVM | %.2f s | %.1f µs | %.2f s |
                    | bulk (getAll: the GTB/BLK extension), fresh JVM | %.2f s | %.1f µs | %.2f s |
                    | the same, warm JVM | %.2f s | %.1f µs | %.2f s |
                    | bulk, fresh JVM with an AOT cache (-XX:AOTCache, trained once) | %.2f s | %.1f µs | %.2f s |

                    Ratios, fresh JVM: one at a time / bulk %.2fx, pipelined / bulk %.2fx, one at a time / bulk with the AOT cache %.2fx.
                    """, count, 16, DAEMON_JAVA_OPTS.isBlank() ? "" : "; " + DAEMON_JAVA_OPTS, limitNote, fds, rssStart, rssHolding,
                    rssAfterGc, (rssHolding - rssStart) / (double) count,
                    heapStart, heapHolding, (heapHolding - heapStart) * 1024.0 / count, addSeconds,
                    count, DESCRIPTORS,
                    sequential.cold(), sequential.cold() * 1e6 / count, sequential.cold() * DESCRIPTORS / count,
                    sequential.warm(), sequential.warm() * 1e6 / count, sequential.warm() * DESCRIPTORS / count,
                    pipelined.cold(), pipelined.cold() * 1e6 / count, pipelined.cold() * DESCRIPTORS / count,
                    pipelined.warm(), pipelined.warm() * 1e6 / count, pipelined.warm() * DESCRIPTORS / count,
                    bulk.cold(), bulk.cold() * 1e6 / count, bulk.cold() * DESCRIPTORS / count,
                    bulk.warm(), bulk.warm() * 1e6 / count, bulk.warm() * DESCRIPTORS / count,
                    bulkAot.cold(), bulkAot.cold() * 1e6 / count, bulkAot.cold() * DESCRIPTORS / count,
                    sequential.cold() / bulk.cold(), pipelined.cold() / bulk.cold(), sequential.cold() / bulkAot.cold());
            report("escrow-hold.md", text + "\nrecovery runs:\n" + String.join("\n", recoveries) + "\n");
        } finally {
            daemon.destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
            daemon.destroyForcibly();
        }
    }

    /**
     * Issue 17's memory goal: the resident memory of our escrowd, as {@code bin/escrow daemon} runs it,
     * against the C escrowd in the same run, both holding {@link #HELD} connected sockets under
     * sustained traffic. Needs the C daemon built from the C escrow's sources (not in this repository):
     * {@code -Dbench.cEscrowd=/path/to/escrowd}. Rounds alternate C and ours; the same Java client
     * drives both (our client speaks the C protocol; every ADD carries a descriptor, since the C
     * daemon aborts on a payload-only one). Then the sidecar as its image runs it ({@code bin/escrow sidecar}), in the
     * same rounds, and filled to the default limits' worst case; {@code -Dbench.sidecarVariants="-Xshare:off;..."} adds
     * the sidecar with other JVM options to each round.
     */
    @Test
    void residentMemoryHoldingTenThousandAgainstTheCDaemon() throws Exception {
        String cEscrowd = System.getProperty("bench.cEscrowd");
        Assumptions.assumeTrue(cEscrowd != null && Files.isExecutable(Path.of(cEscrowd)),
                "set -Dbench.cEscrowd to the C escrowd (cc escrow.c main.c -o escrowd) to compare with it");
        String dist = System.getProperty("escrow.dist");
        assertThat(dist).as("escrow.dist is set by the Failsafe configuration").isNotNull();
        int rounds = Integer.getInteger("bench.memoryRounds", 3);
        List<String> rows = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        List<Long> cHolding = new ArrayList<>();
        // The sidecar as its image runs it: bin/escrow sidecar (the same JVM options file as the daemon), configured from
        // the environment, its Prometheus endpoint scraped every 1,000 cycles during the traffic; then filled to the
        // default limits' worst case (131,072 slots, 16 MiB of payload: payload-only slots beyond the 10,000 held sockets),
        // which is what its heap ceiling and the chart's memory limit must hold.
        List<String> sidecarRows = new ArrayList<>();
        List<String> variants = new ArrayList<>();
        variants.add("");
        for (String variant : System.getProperty("bench.sidecarVariants", "").split(";")) {
            if (!variant.isBlank()) {
                variants.add(variant.strip());
            }
        }
        for (int round = 1; round <= rounds; round++) {
            Memory c = holdUnderTraffic(List.of(cEscrowd, "-t", "2"), Map.of(), "c-" + round);
            Memory ours = holdUnderTraffic(List.of(Path.of(dist, "bin", "escrow").toString(), "daemon", "-t", "2"),
                    Map.of("ESCROW_JAVA_OPTS", DAEMON_JAVA_OPTS), "ours-" + round);
            ratios.add(ours.holdingKiB() / (double) c.holdingKiB());
            cHolding.add(c.holdingKiB());
            rows.add(String.format(Locale.ROOT, "| %d | %,d / %,d / %,d | %,d / %,d / %,d | %.1fx |", round, c.startKiB(), c.holdingKiB(),
                    c.peakKiB(), ours.startKiB(), ours.holdingKiB(), ours.peakKiB(), ours.holdingKiB() / (double) c.holdingKiB()));
            for (String variant : variants) {
                Map<String, String> env = new java.util.HashMap<>(Map.of("FABRIC_ESCROW_NRTAGS", "2", "SERVER_PORT", Integer.toString(SIDECAR_PORT),
                        "ESCROW_JAVA_OPTS", (DAEMON_JAVA_OPTS + " " + variant).strip()));
                Memory sidecar = holdUnderTraffic(List.of(Path.of(dist, "bin", "escrow").toString(), "sidecar"), env, "sidecar-" + round + "-" + variants.indexOf(variant),
                        "FABRIC_ESCROW_SOCKETPATH=", SIDECAR_PORT, true);
                sidecarRows.add(String.format(Locale.ROOT, "| %d | %s | %,d / %,d / %,d | %,d / %,d | %.1fx |", round,
                        variant.isBlank() ? "the image's" : "+ " + variant, sidecar.startKiB(), sidecar.holdingKiB(), sidecar.peakKiB(),
                        sidecar.worstCaseKiB(), sidecar.worstCasePeakKiB(), sidecar.holdingKiB() / (double) cHolding.get(round - 1)));
            }
        }
        String text = String.format(Locale.ROOT, """
                Resident memory (VmRSS at start / holding %,d after %,d ADD+GET+DEL cycles / VmHWM peak, KiB), the C
                escrowd against ours from the distribution (bin/escrow daemon%s), alternating, same client, same run:

                | round | C escrowd | our escrowd | ratio (holding) |
                |---|---|---|---|
                %s
                median ratio: %.1fx

                The sidecar (bin/escrow sidecar, its HTTP port scraped every 1,000 cycles), the same rounds; then filled to the
                default limits' worst case (%,d slots, 16 MiB of payload), VmRSS / VmHWM:

                | round | JVM options | start / holding / peak | worst case: VmRSS / peak | ratio to the C escrowd (holding) |
                |---|---|---|---|---|
                %s
                """, HELD, CYCLES, DAEMON_JAVA_OPTS.isBlank() ? "" : ", ESCROW_JAVA_OPTS=" + DAEMON_JAVA_OPTS,
                String.join("\n", rows), ratios.stream().sorted().toList().get(ratios.size() / 2), MAX_SLOTS, String.join("\n", sidecarRows));
        report("escrow-memory.md", text);
    }

    /**
     * Issue 17's throughput and latency goal: the same C client ({@code src/test/c/escrow_bench.c},
     * compiled here with gcc) against the seed's C escrowd and against ours as {@code bin/escrow daemon}
     * runs it, {@link #CYCLES} cycles of ADD + GET + DEL of a loopback TCP socket with a 16-byte payload,
     * alternating daemons in each of {@code bench.throughputRounds} (3) rounds, after a warm-up cycle
     * run against each (a sidecar runs for days: its JIT is warm), and in the same rotation a bare
     * AF_UNIX ping-pong ({@code src/test/c/pingpong_server.c}: one recvmsg and one sendmsg per request,
     * nothing else) as the floor. With
     * {@code -Dbench.beforeDist=.../escrow-dist}, an earlier build of ours runs in the same rotation
     * (before/after of a change, same run), and with {@code -Dbench.variantJavaOpts=...} this build
     * with other JVM options. Needs the C escrowd ({@link CEscrowd}).
     */
    @Test
    void throughputAgainstTheCDaemon() throws Exception {
        Optional<Path> cEscrowd = CEscrowd.binary(dir);
        Assumptions.assumeTrue(cEscrowd.isPresent(), CEscrowd.HOW);
        String dist = System.getProperty("escrow.dist");
        assertThat(dist).as("escrow.dist is set by the Failsafe configuration").isNotNull();
        Path client = compileC("escrow_bench");
        Path pingPong = compileC("pingpong_server");

        Map<String, List<String>> daemons = new java.util.LinkedHashMap<>();
        daemons.put("C escrowd", List.of(cEscrowd.get().toString(), "-t", "2"));
        // The floor, same run: one recvmsg and one sendmsg per request and nothing else (pingpong_server.c).
        daemons.put("bare AF_UNIX ping-pong", List.of(pingPong.toString()));
        String before = System.getProperty("bench.beforeDist");
        if (before != null) {
            daemons.put("ours, before", List.of(Path.of(before, "bin", "escrow").toString(), "daemon", "-t", "2"));
        }
        daemons.put("ours", List.of(Path.of(dist, "bin", "escrow").toString(), "daemon", "-t", "2"));
        String variant = System.getProperty("bench.variantJavaOpts");
        if (variant != null) {
            // The same build with other JVM options (e.g. -XX:-TieredCompilation: C2 alone), in the same rotation.
            daemons.put("ours, " + variant, List.of("env", "ESCROW_JAVA_OPTS=" + variant, Path.of(dist, "bin", "escrow").toString(), "daemon",
                    "-t", "2"));
        }
        int rounds = Integer.getInteger("bench.throughputRounds", 3);
        Map<String, List<Cycle>> results = new java.util.LinkedHashMap<>();
        Map<String, Process> running = new java.util.LinkedHashMap<>();
        Map<String, Path> sockets = new java.util.LinkedHashMap<>();
        try {
            for (Map.Entry<String, List<String>> daemon : daemons.entrySet()) {
                Path socket = dir.resolve("tp-" + sockets.size() + ".sock");
                List<String> command = new ArrayList<>(daemon.getValue());
                command.add(socket.toString());
                ProcessBuilder builder = new ProcessBuilder(command);
                builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
                builder.environment().put("ESCROW_JAVA_OPTS", DAEMON_JAVA_OPTS);
                // The C daemon prints every message: to /dev/null, fully buffered, as when it runs detached.
                running.put(daemon.getKey(), builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
                sockets.put(daemon.getKey(), socket);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.exists(socket)) {
                    assertThat(System.nanoTime()).as(daemon.getKey() + " listens").isLessThan(deadline);
                    Thread.sleep(20);
                }
                runCycles(client, socket, CYCLES); // warm-up
                results.put(daemon.getKey(), new ArrayList<>());
            }
            for (int round = 0; round < rounds; round++) {
                for (String name : daemons.keySet()) {
                    results.get(name).add(runCycles(client, sockets.get(name), CYCLES));
                }
            }
        } finally {
            for (Process p : running.values()) {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
                p.destroyForcibly();
            }
        }
        StringBuilder table = new StringBuilder();
        table.append("| round | daemon | requests/s | p50 µs | p99 µs | ADD p50 µs | GET p50 µs | DEL p50 µs | requests/s vs C | p50 vs C |\n");
        table.append("|---|---|---|---|---|---|---|---|---|---|\n");
        List<Cycle> c = results.get("C escrowd");
        for (int round = 0; round < rounds; round++) {
            for (String name : daemons.keySet()) {
                Cycle r = results.get(name).get(round);
                Cycle base = c.get(round);
                table.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |%n", round + 1, name,
                        r.requestsPerSecond(), r.p50(), r.p99(), r.addP50(), r.getP50(), r.delP50(),
                        r.requestsPerSecond() / base.requestsPerSecond(), r.p50() / base.p50()));
            }
        }
        StringBuilder medians = new StringBuilder();
        for (String name : daemons.keySet()) {
            List<Double> throughput = new ArrayList<>();
            List<Double> latency = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                throughput.add(results.get(name).get(round).requestsPerSecond() / c.get(round).requestsPerSecond());
                latency.add(results.get(name).get(round).p50() / c.get(round).p50());
            }
            medians.append(String.format(Locale.ROOT, "| %s | %.2fx | %.2fx |%n", name, medianOf(throughput), medianOf(latency)));
        }
        report("escrow-throughput.md", String.format(Locale.ROOT, """
                The same C client (escrow_bench.c), %,d cycles of ADD + GET + DEL of a loopback TCP socket, 16-byte
                payload, per daemon and round, daemons alternating within each round after a warm-up run each%s:

                %s
                Median of the per-round ratios against the C escrowd:

                | daemon | requests/s | p50 |
                |---|---|---|
                %s""", CYCLES, DAEMON_JAVA_OPTS.isBlank() ? "" : " (ESCROW_JAVA_OPTS=" + DAEMON_JAVA_OPTS + ")", table, medians));
    }

    /** Compiles {@code src/test/c/NAME.c} with gcc into the test's directory. */
    private Path compileC(String name) throws Exception {
        Path binary = dir.resolve(name);
        Process gcc = new ProcessBuilder("gcc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O2", "-o", binary.toString(),
                Path.of(System.getProperty("escrow.testC", "src/test/c"), name + ".c").toString()).redirectErrorStream(true).start();
        String gccOutput = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0).as("gcc: " + gccOutput).isTrue();
        return binary;
    }

    /** One run of the C client: requests per second and per-request latencies in µs. */
    record Cycle(double requestsPerSecond, double p50, double p99, double addP50, double getP50, double delP50) {
    }

    private Cycle runCycles(Path client, Path socket, int cycles) throws Exception {
        Process run = new ProcessBuilder(client.toString(), socket.toString(), Integer.toString(cycles)).redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(run.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as(output).isZero();
        Matcher m = Pattern.compile("requests_per_s (\\S+) p50_us (\\S+) p99_us (\\S+) add_p50_us (\\S+) get_p50_us (\\S+) del_p50_us (\\S+)")
                .matcher(output);
        assertThat(m.find()).as(output).isTrue();
        return new Cycle(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5)), Double.parseDouble(m.group(6)));
    }

    private static double medianOf(List<Double> values) {
        return values.stream().sorted().toList().get(values.size() / 2);
    }

    /** The sidecar's HTTP port in the memory benchmark. */
    static final int SIDECAR_PORT = Integer.getInteger("bench.sidecarPort", 21471);
    /** The default limit of slots (EscrowdConfig.DEFAULT_MAX_SLOTS). */
    static final int MAX_SLOTS = 131_072;
    static final int HELD = Integer.getInteger("bench.held", 10_000);
    static final int CYCLES = Integer.getInteger("bench.cycles", 20_000);

    /**
     * VmRSS once listening, VmRSS holding {@link #HELD} after {@link #CYCLES} cycles, and VmHWM, in KiB; then, when asked,
     * VmRSS and VmHWM filled to the default limits' worst case (else -1).
     */
    record Memory(long startKiB, long holdingKiB, long peakKiB, long worstCaseKiB, long worstCasePeakKiB) {
    }

    private Memory holdUnderTraffic(List<String> daemonCommand, Map<String, String> env, String name) throws Exception {
        return holdUnderTraffic(daemonCommand, env, name, "", 0, false);
    }

    /**
     * {@code pathVariable}: empty, the socket path is the daemon's last argument; else the environment variable that
     * names it ({@code FABRIC_ESCROW_SOCKETPATH=}). {@code scrapePort}: a sidecar's HTTP port, scraped every 1,000
     * cycles (0: none). {@code worstCase}: afterwards fill the escrow with payload-only slots to the default limits.
     */
    private Memory holdUnderTraffic(List<String> daemonCommand, Map<String, String> env, String name, String pathVariable, int scrapePort,
                                    boolean worstCase) throws Exception {
        Path socket = dir.resolve(name + ".sock");
        List<String> command = new ArrayList<>(daemonCommand);
        if (pathVariable.isEmpty()) {
            command.add(socket.toString());
        }
        ProcessBuilder builder = raisedLimit(command);
        builder.environment().putAll(env);
        if (!pathVariable.isEmpty()) {
            builder.environment().put(pathVariable.substring(0, pathVariable.length() - 1), socket.toString());
        }
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        // The C daemon prints every message it sends and receives: discard, for both.
        Process daemon = builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(socket)) {
                assertThat(System.nanoTime()).as("the daemon listens on " + socket).isLessThan(deadline);
                assertThat(daemon.isAlive()).as("the daemon runs").isTrue();
                Thread.sleep(20);
            }
            Thread.sleep(1_000);
            long start = rssKiB(daemon.pid());
            UnixDomainSocketAddress clients = UnixDomainSocketAddress.of(dir.resolve(name + "-clients.sock"));
            byte[] payload = "client 123456789".getBytes(StandardCharsets.US_ASCII);
            try (Escrow escrow = Escrow.open(socket, 0, 2);
                 ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(clients);
                 TcpPair traffic = TcpPair.open()) {
                for (int idx = 0; idx < HELD; idx++) {
                    try (SocketChannel peer = SocketChannel.open(clients); SocketChannel accepted = listener.accept()) {
                        escrow.add(1, idx, accepted, payload);
                    }
                }
                for (int i = 0; i < CYCLES; i++) {
                    escrow.add(0, 0, traffic.accepted, payload);
                    escrow.get(0, 0).descriptor().close();
                    escrow.del(0, 0);
                    if (scrapePort != 0 && i % 1_000 == 0) {
                        var scrape = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + scrapePort
                                + "/actuator/prometheus")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                        assertThat(scrape.body()).contains("escrow_descriptors{application=\"escrow-sidecar\"}");
                    }
                }
                assertThat(escrow.tag(1).slots()).isEqualTo(HELD);
                Thread.sleep(1_000);
                long holding = rssKiB(daemon.pid());
                long peak = statusKiB(daemon.pid(), "VmHWM:");
                if (!worstCase) {
                    return new Memory(start, holding, peak, -1, -1);
                }
                // Payload-only slots (ours stores them) up to the default limits: slots, then payload bytes.
                long payloadLeft = (16L << 20) - (long) HELD * PAYLOAD;
                int slotsLeft = MAX_SLOTS - HELD;
                byte[] big = new byte[(int) (payloadLeft / slotsLeft)];
                for (int idx = HELD; idx < MAX_SLOTS; idx++) {
                    escrow.add(1, idx, big);
                }
                assertThat(escrow.tag(1).slots()).isEqualTo(MAX_SLOTS);
                Thread.sleep(1_000);
                return new Memory(start, holding, peak, rssKiB(daemon.pid()), statusKiB(daemon.pid(), "VmHWM:"));
            }
        } finally {
            daemon.destroyForcibly();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static long statusKiB(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("no " + field + " for " + pid);
    }

    /** Recovery times of several client processes, in seconds: in the fresh JVM, and again once it is warm. */
    record Recovery(List<Double> colds, List<Double> warms) {
        Recovery() {
            this(new ArrayList<>(), new ArrayList<>());
        }

        double cold() {
            return colds.stream().sorted().toList().get(colds.size() / 2);
        }

        double warm() {
            return warms.stream().sorted().toList().get(warms.size() / 2);
        }
    }

    /** Runs {@link RecoverAll} in a new JVM (the service after a restart) and adds its times to {@code into}. */
    private void recover(Path socket, int count, List<String> lines, Recovery into, List<String> jvmOptions, String... mode) throws Exception {
        String output = recoverInAFreshProcess(socket, jvmOptions, mode);
        lines.add(output.strip());
        Matcher m = Pattern.compile("(?m)^(recovered|again, warm,) (\\d+) descriptors in (\\d+) ms").matcher(output);
        for (int i = 0; i < 2; i++) {
            assertThat(m.find()).as(output).isTrue();
            assertThat(Integer.parseInt(m.group(2))).isEqualTo(count);
            (i == 0 ? into.colds() : into.warms()).add(Integer.parseInt(m.group(3)) / 1000.0);
        }
    }

    /** Runs {@link RecoverAll} in a new JVM (the service after a restart) and returns its output. */
    private String recoverInAFreshProcess(Path socket, List<String> jvmOptions, String... mode) throws Exception {
        Path log = dir.resolve("recover-" + System.nanoTime() + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-opens",
                "java.base/sun.nio.ch=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", jarsOnlyClassPath(), RecoverAll.class.getName(), socket.toString()));
        command.addAll(List.of(mode));
        Process recover = raisedLimit(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(recover.waitFor(120, TimeUnit.SECONDS)).as("recovery finished").isTrue();
        String output = Files.readString(log);
        assertThat(recover.exitValue()).as(output).isZero();
        return output;
    }

    /** This class path with its directories (target/classes, target/test-classes) packed as jars: an AOT cache takes jars only. */
    private String jarsOnlyClassPath() throws Exception {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!Files.isDirectory(path)) {
                entries.add(entry);
                continue;
            }
            Path jar = dir.resolve("cp-" + path.getFileName() + ".jar");
            if (!Files.exists(jar)) {
                Process pack = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jar").toString(), "--create", "--file",
                        jar.toString(), "-C", path.toString(), ".").redirectErrorStream(true).start();
                String out = new String(pack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(pack.waitFor(120, TimeUnit.SECONDS) && pack.exitValue() == 0).as("jar: " + out).isTrue();
            }
            entries.add(jar.toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** The open-file limit a child gets from {@link #raisedLimit}: 300,000, or the hard limit when that cannot be raised. */
    private static long openFileLimitWeCanGet() throws Exception {
        Process probe = raisedLimit(List.of("bash", "-c", "ulimit -n")).redirectErrorStream(true).start();
        String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        probe.waitFor();
        return Long.parseLong(out.lines().reduce((a, b) -> b).orElseThrow());
    }

    /** The command in a shell that first raises the open-file limit to 300,000 (root may), else to the hard limit. */
    private static ProcessBuilder raisedLimit(List<String> command) {
        List<String> shell = new ArrayList<>(List.of("bash", "-c",
                "ulimit -n 300000 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$@\"", "bash"));
        shell.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(shell);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return builder;
    }

    private static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    /** Forces a full GC in the process ({@code jcmd GC.run}) and returns the heap it still uses. */
    private static long heapUsedAfterFullGcKiB(long pid) throws Exception {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        long used = 0;
        int generations = 0;
        // Serial GC: "DefNew total ..., used 0K" and "Tenured total ..., used 3278K" (older JDKs: "def new generation", "tenured generation").
        Matcher m = Pattern.compile("(?m)^\\s*(DefNew|Tenured|def new generation|tenured generation)\\s.*used (\\d+)K").matcher(info);
        while (m.find()) {
            used += Long.parseLong(m.group(2));
            generations++;
        }
        assertThat(generations).as(info).isEqualTo(2);
        return used;
    }

    private static String jcmd(long pid, String command) throws Exception {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), command)
                .redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jcmd.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    private static void awaitLine(Path log, String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + text + "' within " + timeout + " in:\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }

    private static Round measure(Op op, int count) throws IOException {
        long[] nanos = new long[count];
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            op.run();
            nanos[i] = System.nanoTime() - t0;
        }
        long total = System.nanoTime() - started;
        Arrays.sort(nanos);
        return new Round(count / (total / 1e9), nanos[count / 2] / 1e3, nanos[(int) (count * 0.99)] / 1e3);
    }

    private static Round median(List<Round> rounds) {
        return rounds.stream().sorted((a, b) -> Double.compare(a.opsPerSecond(), b.opsPerSecond())).toList().get(rounds.size() / 2);
    }

    private static void report(String file, String text) throws IOException {
        System.out.println(text);
        Path out = Path.of("target", "benchmarks");
        Files.createDirectories(out);
        Files.writeString(out.resolve(file), text);
    }

    /**
     * The floor for ADD+GET: the same bytes and the same descriptor over AF_UNIX with junixsocket, no
     * protocol. Per trip: send 32 bytes with the descriptor, get 6 back; send 8, get 32 back with the
     * descriptor (which the server held, as escrowd does, until the next trip replaces it).
     */
    static final class BarePingPong implements AutoCloseable {
        private final AFUNIXServerSocket server;
        private final AFUNIXSocket client;
        private final InputStream in;
        private final OutputStream out;
        private final Thread serving;
        private final byte[] reply = new byte[6];
        private final byte[] get = new byte[8];
        private final byte[] add = new byte[16 + PAYLOAD];

        private BarePingPong(AFUNIXServerSocket server, AFUNIXSocket client, Thread serving) throws IOException {
            this.server = server;
            this.client = client;
            this.serving = serving;
            client.setAncillaryReceiveBufferSize(512);
            this.in = client.getInputStream();
            this.out = client.getOutputStream();
        }

        static BarePingPong start(Path path) throws IOException {
            AFUNIXServerSocket server = AFUNIXServerSocket.newInstance();
            server.bind(AFUNIXSocketAddress.of(path));
            Thread serving = Thread.ofPlatform().name("bare-ping-pong").daemon(true).start(() -> serve(server));
            return new BarePingPong(server, AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path)), serving);
        }

        private static void serve(AFUNIXServerSocket server) {
            try (AFUNIXSocket s = server.accept()) {
                s.setAncillaryReceiveBufferSize(512);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] add = new byte[16 + PAYLOAD];
                byte[] get = new byte[8];
                byte[] rep = new byte[6];
                FileDescriptor held = null;
                while (readFully(in, add)) {
                    FileDescriptor[] arrived = s.getReceivedFileDescriptors();
                    Descriptors.close(held);
                    held = arrived.length > 0 ? arrived[0] : null;
                    out.write(rep);
                    if (!readFully(in, get)) {
                        break;
                    }
                    s.setOutboundFileDescriptors(held);
                    out.write(add);
                }
                Descriptors.close(held);
            } catch (IOException e) {
                // The client closed: the benchmark is over.
            }
        }

        void roundTrip(FileDescriptor fd, byte[] payload) throws IOException {
            System.arraycopy(payload, 0, add, 16, PAYLOAD);
            client.setOutboundFileDescriptors(fd);
            out.write(add);
            readFully(in, reply);
            out.write(get);
            readFully(in, add);
            FileDescriptor[] back = client.getReceivedFileDescriptors();
            if (back.length != 1) {
                throw new IOException("expected one descriptor back, got " + back.length);
            }
            Descriptors.close(back[0]);
        }

        private static boolean readFully(InputStream in, byte[] buffer) throws IOException {
            int off = 0;
            while (off < buffer.length) {
                int n = in.read(buffer, off, buffer.length - off);
                if (n < 0) {
                    return false;
                }
                off += n;
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
            try {
                serving.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
