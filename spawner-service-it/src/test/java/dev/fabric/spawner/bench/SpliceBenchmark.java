package dev.fabric.spawner.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.NatVariant;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mode 4 across the lab's NATs, splice or relay, on demand and never part of the test suite
 * (docs/benchmarks.md, "TCP splicing across the lab's NATs"), as root (the network lab):
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=SpliceBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 *     -Dfailsafe.failIfNoSpecifiedTests=false</pre>
 *
 * <p>The registry, a spawner and its bridge member on {@code public}. For each pair of hosts, one NAT kind
 * each (none: desktop and gateway, each in mode 2; easy-easy, easy-resetting, resetting-resetting,
 * easy-symmetric, symmetric-symmetric: home-1 behind nat-1 and home-2 behind nat-2), {@code bench.attempts}
 * (100; 0: throughput only) rendezvous are connected as mode 4 connects them ({@code SpliceOrRelay}: a splice, and when it opened
 * no connection, a circuit through the bridge), {@code bench.parallel} (10) at a time, each side one JVM
 * inside its host ({@link SpliceRelayProbe}); every connection is proven by a line each way. The dialing
 * window is the product's ({@link SpliceSchedule#DEFAULT}, 10 s) unless {@code bench.window} says otherwise.
 *
 * <p>Then, with easy NATs, throughput: {@code bench.bytes} (128 MiB) one way over a direct connection (home-1
 * through nat-1 to public), a spliced one (home-1 to home-2) and a relayed one (home-1 through the bridge on
 * public to home-2), {@code bench.rounds} (3) rounds interleaved, for each home access-link rate of
 * {@code bench.rates} (Mbit/s, 0 = unlimited; default {@code 0,1000,100}; at a rate a transfer is at most 4 s of
 * it). {@code bench.pairs} (names, comma-separated) runs some pairs only. Figures go to stdout and {@code target/benchmarks/splice.md}. No assertion on time.
 */
@RequiresNetworkLab
class SpliceBenchmark {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path REGISTRY_JAR = ROOT.resolve("registry-service/target/registry-service-exec.jar");
    private static final Path SPAWNER_JAR = ROOT.resolve("spawner-service/target/spawner-service-exec.jar");
    private static final int REGISTRY_PORT = 26000;
    private static final int SINK_PORT = 26001;
    private static final int SPAWNER_PORT = 26002;
    private static final int RELAY_PORT = 26080;
    private static final int ATTEMPTS = Integer.getInteger("bench.attempts", 100);
    private static final int PARALLEL = Integer.getInteger("bench.parallel", 10);
    private static final long WINDOW_SECONDS = Long.getLong("bench.window", SpliceSchedule.DEFAULT.window().toSeconds());
    private static final long BYTES = Long.getLong("bench.bytes", 128L * 1024 * 1024);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final List<Integer> RATES = Arrays.stream(System.getProperty("bench.rates", "0,1000,100").split(","))
            .map(String::strip).map(Integer::valueOf).toList();
    private static final String PAIRS = System.getProperty("bench.pairs", "");
    private static final String MEMBER = "queue-be0c0000";
    private static final String OTP = "t".repeat(43);

    @TempDir
    static Path dir;

    /** What happened during the run that the tables do not show. */
    private static final StringBuilder notes = new StringBuilder();

    record Pair(String name, Host initiator, Host peer, NatVariant first, NatVariant second) {}

    @Test
    void spliceOrRelayMatrix(NetworkLab lab) throws Exception {
        Instant begun = Instant.now();
        Files.writeString(dir.resolve("logback.xml"), "<configuration><appender name=\"E\" class=\"ch.qos.logback.core.ConsoleAppender\">"
                + "<target>System.err</target><encoder><pattern>%d %-5level %logger{20} %msg%n</pattern></encoder></appender>"
                + "<root level=\"WARN\"><appender-ref ref=\"E\"/></root></configuration>");
        FabricKeys.generate().writeTo(dir.resolve("keys"));
        lab.resetNats();
        String registry = "http://" + lab.address(Host.PUBLIC) + ":" + REGISTRY_PORT;
        String spawner = "http://" + lab.address(Host.PUBLIC) + ":" + SPAWNER_PORT;
        String via = "http://" + lab.address(Host.PUBLIC) + ":" + RELAY_PORT;
        startFabric(lab, registry, spawner);
        NetworkLab.ExecResult spawned = exec(lab, Host.PUBLIC, "spawn-bridge", spawner, keys(), Integer.toString(RELAY_PORT),
                lab.address(Host.PUBLIC));
        assertThat(spawned.ok()).as(spawned.stderr()).isTrue();
        lab.awaitListening(Host.PUBLIC, RELAY_PORT, Duration.ofMinutes(4));

        StringBuilder report = new StringBuilder();
        report.append("Splice or relay: ").append(ATTEMPTS).append(" rendezvous per pair, ").append(PARALLEL)
                .append(" at a time, dialing window ").append(WINDOW_SECONDS).append(" s; load average at the start ")
                .append(load()).append(".\n\n")
                .append("| NATs | spliced | relayed | connected | splice: time to connect p50 / p99 ms (dialing p50 / p99) "
                        + "| relay: time to connect p50 / p99 ms | failures | load at the end |\n|---|---|---|---|---|---|---|---|\n");
        List<Pair> pairs = new ArrayList<>(List.of(
                new Pair("none (both firewalled, mode 2)", Host.DESKTOP, Host.GATEWAY, null, null),
                new Pair("easy - easy", Host.HOME_1, Host.HOME_2, NatVariant.EASY, NatVariant.EASY),
                new Pair("easy - resetting", Host.HOME_1, Host.HOME_2, NatVariant.EASY, NatVariant.RESETTING),
                new Pair("resetting - resetting", Host.HOME_1, Host.HOME_2, NatVariant.RESETTING, NatVariant.RESETTING),
                new Pair("easy - symmetric", Host.HOME_1, Host.HOME_2, NatVariant.EASY, NatVariant.SYMMETRIC),
                new Pair("symmetric - symmetric", Host.HOME_1, Host.HOME_2, NatVariant.SYMMETRIC, NatVariant.SYMMETRIC)));
        if (ATTEMPTS == 0) {
            pairs.clear(); // throughput only
        }
        if (!PAIRS.isBlank()) {
            pairs.removeIf(pair -> !Arrays.asList(PAIRS.split(",")).contains(pair.name().split(" \\(")[0]));
        }
        for (Pair pair : pairs) {
            Instant started = Instant.now();
            report.append(matrixRow(lab, registry, via, pair));
            System.out.println(report + "(" + pair.name() + ": " + Duration.between(started, Instant.now()).toSeconds() + " s)");
        }
        lab.setMode(Host.DESKTOP, Mode.OPEN);
        lab.setMode(Host.GATEWAY, Mode.OPEN);

        report.append("\nThroughput, ").append(BYTES >> 20).append(" MiB one way (at a rate: at most 4 s of it), ").append(ROUNDS)
                .append(" rounds interleaved, medians in MB/s (rounds in brackets):\n\n")
                .append("| home access links | direct (home-1 to public) | spliced (home-1 to home-2) | relayed (through the bridge) "
                        + "| spliced / direct | relayed / direct | load |\n|---|---|---|---|---|---|---|\n");
        for (int rate : RATES) {
            report.append(throughputRow(lab, registry, via, rate));
            System.out.println(report);
        }
        lab.resetNats();
        String text = report + (notes.isEmpty() ? "" : "\n" + notes) + "\nRun time " + Duration.between(begun, Instant.now()).toSeconds() + " s; "
                + Runtime.getRuntime().availableProcessors() + " cores.\n";
        System.out.println(text);
        Files.createDirectories(Path.of("target", "benchmarks"));
        Files.writeString(Path.of("target", "benchmarks", "splice.md"), text);
    }

    private void startFabric(NetworkLab lab, String registry, String spawner) throws InterruptedException {
        ProcessBuilder process = lab.processBuilder(Host.PUBLIC, NetworkLab.javaCommand("-Xmx256m", "--enable-native-access=ALL-UNNAMED",
                "-jar", REGISTRY_JAR.toString(), "--server.address=" + lab.address(Host.PUBLIC),
                "--fabric.registry.rendezvous.max-open=4000", "--fabric.registry.rendezvous.max-ttl=1h"));
        process.environment().put("FABRIC_KEYS_PATH", keys());
        process.environment().put("FABRIC_DATA_DIR", dir.resolve("registry").toString());
        process.environment().put("FABRIC_REGISTRY_PORT", Integer.toString(REGISTRY_PORT));
        lab.startProcess(process, dir.resolve("registry.log"));
        lab.awaitListening(Host.PUBLIC, REGISTRY_PORT, Duration.ofMinutes(3));
        ProcessBuilder spawnerProcess = lab.processBuilder(Host.PUBLIC, NetworkLab.javaCommand("-Xmx256m", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-Dfabric.spawner.stop-members-on-shutdown=true",
                "-Dfabric.spawner.bootstrap-timeout=240s", "-Dfabric.spawner.otp-ttl=240s", "-jar", SPAWNER_JAR.toString()));
        spawnerProcess.environment().put("FABRIC_KEYS_PATH", keys());
        spawnerProcess.environment().put("FABRIC_DATA_DIR", dir.resolve("spawner").toString());
        spawnerProcess.environment().put("FABRIC_REGISTRY_URL", registry);
        spawnerProcess.environment().put("FABRIC_SPAWNER_PORT", Integer.toString(SPAWNER_PORT));
        spawnerProcess.environment().put("FABRIC_SPAWNER_ADVERTISED_URL", spawner);
        lab.startProcess(spawnerProcess, dir.resolve("spawner.log"));
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        while (!lab.exec(Host.PUBLIC, "curl", "-fsS", "--max-time", "2", spawner + "/actuator/health/readiness").ok()) {
            assertThat(Instant.now()).as("the spawner is not ready after 3 minutes").isBefore(deadline);
            Thread.sleep(500);
        }
    }

    private String matrixRow(NetworkLab lab, String registry, String via, Pair pair) throws Exception {
        lab.resetNats();
        lab.setMode(Host.DESKTOP, Mode.OPEN);
        lab.setMode(Host.GATEWAY, Mode.OPEN);
        if (pair.first() == null) {
            lab.setMode(Host.DESKTOP, Mode.FIREWALL_TO_SERVICE);
            lab.setMode(Host.GATEWAY, Mode.FIREWALL_TO_SERVICE);
        } else {
            lab.setNat(Host.NAT_1, pair.first());
            lab.setNat(Host.NAT_2, pair.second());
        }
        Path ids = openRendezvous(lab, registry, ATTEMPTS, "matrix-" + Math.abs(pair.name().hashCode()));
        List<String> outcomes;
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<NetworkLab.ExecResult> initiator = sides.submit(() -> exec(lab, pair.initiator(), "connect", registry, ids.toString(),
                    "initiator", keys(), Long.toString(WINDOW_SECONDS), Integer.toString(PARALLEL), via));
            Future<NetworkLab.ExecResult> peer = sides.submit(() -> exec(lab, pair.peer(), "connect", registry, ids.toString(),
                    "peer", MEMBER, Long.toString(WINDOW_SECONDS), Integer.toString(PARALLEL), via));
            NetworkLab.ExecResult first = initiator.get();
            NetworkLab.ExecResult second = peer.get();
            assertThat(first.ok()).as(first.stderr()).isTrue();
            assertThat(second.ok()).as(second.stderr()).isTrue();
            outcomes = first.stdout().lines().filter(line -> line.matches("(spliced|relayed|failed) .*")).toList();
            List<String> failedPeers = second.stdout().lines().filter(line -> line.startsWith("failed ")).toList();
            if (!failedPeers.isEmpty()) {
                System.out.println(pair.name() + ": the peer's failures: " + failedPeers);
            }
        }
        List<Long> spliced = column(outcomes, "spliced ", 1);
        List<Long> dialing = column(outcomes, "spliced ", 2);
        List<Long> relayed = column(outcomes, "relayed ", 1);
        List<String> failures = outcomes.stream().filter(line -> line.startsWith("failed ")).toList();
        String failed = failures.isEmpty() ? "-" : failures.size() + " (" + failures.getFirst().replace("|", "/") + ")";
        return "| " + pair.name() + " | " + spliced.size() + "/" + ATTEMPTS + " | " + relayed.size() + " | **"
                + (spliced.size() + relayed.size()) + "/" + ATTEMPTS + "** | "
                + (spliced.isEmpty() ? "-" : percentile(spliced, 0.50) + " / " + percentile(spliced, 0.99) + " (" + percentile(dialing, 0.50)
                + " / " + percentile(dialing, 0.99) + ")") + " | "
                + (relayed.isEmpty() ? "-" : percentile(relayed, 0.50) + " / " + percentile(relayed, 0.99)) + " | " + failed + " | "
                + load() + " |\n";
    }

    private String throughputRow(NetworkLab lab, String registry, String via, int rate) throws Exception {
        lab.setNat(Host.NAT_1, NatVariant.EASY, Duration.ZERO, rate);
        lab.setNat(Host.NAT_2, NatVariant.EASY, Duration.ZERO, rate);
        long bytes = rate == 0 ? BYTES : Math.min(BYTES, rate * 125_000L * 4);
        Path ids = openRendezvous(lab, registry, ROUNDS, "throughput-" + rate);
        List<String> spliceIds = Files.readAllLines(ids).stream().map(String::strip).filter(id -> !id.isEmpty()).toList();
        double[] direct = new double[ROUNDS];
        double[] spliced = new double[ROUNDS];
        double[] relayed = new double[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            // A different order each round, so no path always runs first or last.
            List<Runnable> paths = new ArrayList<>();
            int r = round;
            paths.add(() -> direct[r] = directThroughput(lab, bytes));
            paths.add(() -> spliced[r] = both(lab, Host.HOME_1, Host.HOME_2, "splice-transfer", registry, spliceIds.get(r), keys(), MEMBER,
                    bytes));
            paths.add(() -> relayed[r] = both(lab, Host.HOME_1, Host.HOME_2, "circuit-transfer", via, "rv-bench-" + rate + "-" + r, keys(),
                    "-", bytes));
            for (int i = 0; i < paths.size(); i++) {
                paths.get((i + round) % paths.size()).run();
            }
        }
        double d = median(direct);
        double s = median(spliced);
        double rel = median(relayed);
        Function<double[], String> rounds = values -> Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%.0f", v))
                .reduce((a, b) -> a + " / " + b).orElse("");
        return String.format(Locale.ROOT, "| %s | %.0f [%s] | %.0f [%s] | %.0f [%s] | %.2fx | **%.2fx** | %s |%n",
                rate == 0 ? "unlimited" : rate + " Mbit/s (" + String.format(Locale.ROOT, "%.1f", rate / 8.0) + " MB/s) each way", d, rounds.apply(direct), s,
                rounds.apply(spliced), rel, rounds.apply(relayed), s / d, rel / d, load());
    }

    /** home-1 through nat-1 to public: the path a spliced or relayed connection's first half takes, nothing spliced or relayed. */
    private double directThroughput(NetworkLab lab, long bytes) {
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<NetworkLab.ExecResult> sink = sides.submit(() -> exec(lab, Host.PUBLIC, "sink", Integer.toString(SINK_PORT),
                    Long.toString(bytes)));
            lab.awaitListening(Host.PUBLIC, SINK_PORT, Duration.ofMinutes(1));
            NetworkLab.ExecResult source = exec(lab, Host.HOME_1, "source", lab.address(Host.PUBLIC), Integer.toString(SINK_PORT),
                    Long.toString(bytes));
            assertThat(source.ok()).as(source.stderr()).isTrue();
            return throughput(sink.get());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Both sides of a transfer at once, the initiator on {@code from} sending; the receiver's MB/s. */
    private double both(NetworkLab lab, Host from, Host to, String command, String where, String id, String initiatorArgument,
                        String peerArgument, long bytes) {
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<NetworkLab.ExecResult> sender = sides.submit(() -> exec(lab, from, command, where, id, "initiator", initiatorArgument,
                    Long.toString(bytes)));
            Future<NetworkLab.ExecResult> receiver = sides.submit(() -> exec(lab, to, command, where, id, "peer", peerArgument,
                    Long.toString(bytes)));
            NetworkLab.ExecResult sent = sender.get();
            if (!sent.ok() && sent.stderr().contains("connection refused") && !id.endsWith("-again")) {
                // The bridge is being restarted by its spawner (a member that missed its heartbeats under load): wait for it,
                // say so, and measure again.
                receiver.cancel(true);
                System.out.println("the bridge refused a circuit (" + id + "): restarted? waiting for its relay port");
                notes.append("- The bridge refused circuit ").append(id).append(" (restarted by its spawner); measured again.\n");
                lab.awaitListening(Host.PUBLIC, RELAY_PORT, Duration.ofMinutes(4));
                return both(lab, from, to, command, where, id + "-again", initiatorArgument, peerArgument, bytes);
            }
            assertThat(sent.ok()).as(command + " (sender): " + sent.stderr()).isTrue();
            return throughput(receiver.get());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static double throughput(NetworkLab.ExecResult receiver) {
        assertThat(receiver.ok()).as(receiver.stderr()).isTrue();
        return receiver.stdout().lines().filter(line -> line.startsWith("throughput ")).findFirst()
                .map(line -> Double.parseDouble(line.substring("throughput ".length()))).orElseThrow();
    }

    private Path openRendezvous(NetworkLab lab, String registry, int count, String name) throws Exception {
        NetworkLab.ExecResult opened = exec(lab, Host.DESKTOP, "open-many", registry, keys(), MEMBER, Integer.toString(count));
        assertThat(opened.ok()).as(opened.stderr()).isTrue();
        Path ids = dir.resolve("ids-" + name);
        Files.writeString(ids, opened.stdout().lines().filter(line -> line.startsWith("rv-")).reduce("", (a, b) -> a + b + "\n"));
        assertThat(Files.readAllLines(ids)).as(opened.stdout()).hasSize(count);
        return ids;
    }

    private static List<Long> column(List<String> outcomes, String prefix, int index) {
        return outcomes.stream().filter(line -> line.startsWith(prefix)).map(line -> Long.parseLong(line.split(" ")[index])).sorted().toList();
    }

    private static String percentile(List<Long> sorted, double q) {
        return Long.toString(sorted.get(Math.min(sorted.size() - 1, Math.max(0, (int) Math.ceil(q * sorted.size()) - 1))));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String load() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " / " + fields[1] + " / " + fields[2];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static String keys() {
        return dir.resolve("keys").toString();
    }

    private static NetworkLab.ExecResult exec(NetworkLab lab, Host host, String... arguments) {
        List<String> command = new ArrayList<>(NetworkLab.javaCommand("-Xmx128m", "-Dlogback.configurationFile=" + dir.resolve("logback.xml"),
                "-cp", System.getProperty("java.class.path"), SpliceRelayProbe.class.getName()));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = lab.processBuilder(host, command);
        builder.environment().put("FABRIC_OTP", OTP);
        return lab.exec(builder, Duration.ofMinutes(30));
    }
}
