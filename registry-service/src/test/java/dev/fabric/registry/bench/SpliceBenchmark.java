package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.registry.rendezvous.SpliceProbe;
import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.NatVariant;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On-demand benchmark, never part of the test suite (docs/benchmarks.md, "TCP splicing"):
 * {@code ./mvnw -pl registry-service -am verify -Dit.test=SpliceBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 * -Dfailsafe.failIfNoSpecifiedTests=false} (root: the network lab).
 *
 * <p>The registry on {@code public} brokers {@code bench.attempts} (100) splices for each pair of the
 * lab's hosts, one NAT kind each: none (desktop and gateway, each in mode 2: nothing NAT-ed, unsolicited
 * SYNs dropped), easy-easy, easy-symmetric, symmetric-symmetric, easy-resetting. Reported per pair: the
 * share of splices that connected, the time to connect from the start the registry gave (p50, p99), and
 * over the first splice, the throughput of a spliced connection against a direct one (home-1 through
 * nat-1 to public) measured in the same run. Figures go to stdout and {@code target/benchmarks/splice.md}.
 */
@RequiresNetworkLab
class SpliceBenchmark {

    private static final Path REGISTRY_JAR = Path.of("target", "registry-service-exec.jar").toAbsolutePath();
    private static final int REGISTRY_PORT = 19220;
    private static final int SINK_PORT = 19221;
    private static final int ATTEMPTS = Integer.getInteger("bench.attempts", 100);
    private static final int WINDOW_SECONDS = Integer.getInteger("bench.window", 2);
    private static final long BYTES = Long.getLong("bench.bytes", 64L * 1024 * 1024);
    private static final String MEMBER = "queue-be0c0000";
    private static final String OTP = "t".repeat(43);

    @TempDir
    static Path dir;

    record Pair(String name, Host initiator, Host peer, NatVariant first, NatVariant second) {}

    @Test
    void spliceMatrix(NetworkLab lab) throws Exception {
        FabricKeys.generate().writeTo(dir.resolve("keys"));
        String registry = "http://" + lab.address(Host.PUBLIC) + ":" + REGISTRY_PORT;
        ProcessBuilder process = lab.processBuilder(Host.PUBLIC, NetworkLab.javaCommand("-Xmx256m",
                "--enable-native-access=ALL-UNNAMED", "-jar", REGISTRY_JAR.toString(), "--server.address=" + lab.address(Host.PUBLIC),
                "--fabric.registry.rendezvous.max-open=2000"));
        process.environment().put("FABRIC_KEYS_PATH", dir.resolve("keys").toString());
        process.environment().put("FABRIC_DATA_DIR", dir.resolve("registry").toString());
        process.environment().put("FABRIC_REGISTRY_PORT", Integer.toString(REGISTRY_PORT));
        lab.startProcess(process, dir.resolve("registry.log"));
        lab.awaitListening(Host.PUBLIC, REGISTRY_PORT, Duration.ofMinutes(3));

        String direct = directThroughput(lab);
        StringBuilder report = new StringBuilder("| NATs | splices connected | time to connect p50 ms | p99 ms | spliced MB/s | direct MB/s (same run) |\n"
                + "|---|---|---|---|---|---|\n");
        List<Pair> pairs = List.of(
                new Pair("none (both firewalled, mode 2)", Host.DESKTOP, Host.GATEWAY, null, null),
                new Pair("easy - easy", Host.HOME_1, Host.HOME_2, NatVariant.EASY, NatVariant.EASY),
                new Pair("easy - resetting", Host.HOME_1, Host.HOME_2, NatVariant.EASY, NatVariant.RESETTING),
                new Pair("easy - symmetric", Host.HOME_1, Host.HOME_2, NatVariant.EASY, NatVariant.SYMMETRIC),
                new Pair("symmetric - symmetric", Host.HOME_1, Host.HOME_2, NatVariant.SYMMETRIC, NatVariant.SYMMETRIC));
        for (Pair pair : pairs) {
            report.append(run(lab, registry, pair, direct));
            System.out.println(report);
        }
        String load = String.format(Locale.ROOT, "%.1f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        String text = "Splice benchmark: " + ATTEMPTS + " splices per pair, dialing window " + WINDOW_SECONDS + " s, "
                + BYTES / (1024 * 1024) + " MiB over the first splice; load average " + load + " on "
                + Runtime.getRuntime().availableProcessors() + " cores at the end.\n\n" + report;
        System.out.println(text);
        Files.createDirectories(Path.of("target", "benchmarks"));
        Files.writeString(Path.of("target", "benchmarks", "splice.md"), text);
    }

    private String run(NetworkLab lab, String registry, Pair pair, String direct) throws Exception {
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
        Path ids = dir.resolve("ids-" + Math.abs(pair.name().hashCode()));
        NetworkLab.ExecResult opened = exec(lab, Host.DESKTOP, "open-many", registry, dir.resolve("keys").toString(), MEMBER,
                Integer.toString(ATTEMPTS));
        assertThat(opened.ok()).as(opened.stderr()).isTrue();
        Files.writeString(ids, opened.stdout());
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<NetworkLab.ExecResult> initiator = sides.submit(() -> exec(lab, pair.initiator(), "bench", registry, ids.toString(),
                    "initiator", dir.resolve("keys").toString(), Integer.toString(WINDOW_SECONDS), Long.toString(BYTES)));
            Future<NetworkLab.ExecResult> peer = sides.submit(() -> exec(lab, pair.peer(), "bench", registry, ids.toString(),
                    "peer", MEMBER, Integer.toString(WINDOW_SECONDS), Long.toString(BYTES)));
            NetworkLab.ExecResult first = initiator.get();
            NetworkLab.ExecResult second = peer.get();
            assertThat(first.ok()).as(first.stderr()).isTrue();
            assertThat(second.ok()).as(second.stderr()).isTrue();
            List<Long> dials = new ArrayList<>();
            long connected = first.stdout().lines().filter(line -> line.startsWith("ok ")).peek(line ->
                    dials.add(Long.parseLong(line.split(" ")[1]))).count();
            String throughput = second.stdout().lines().filter(line -> line.startsWith("throughput ")).findFirst()
                    .map(line -> line.substring("throughput ".length())).orElse("-");
            dials.sort(null);
            return "| " + pair.name() + " | " + connected + "/" + ATTEMPTS + " | " + percentile(dials, 0.50) + " | "
                    + percentile(dials, 0.99) + " | " + throughput + " | " + direct + " |\n";
        }
    }

    private static String percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return "-";
        }
        return Long.toString(sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1)));
    }

    /** home-1 through nat-1 to public: the path a spliced connection's first half takes, with nothing spliced. */
    private String directThroughput(NetworkLab lab) throws Exception {
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<NetworkLab.ExecResult> sink = sides.submit(() -> exec(lab, Host.PUBLIC, "sink", Integer.toString(SINK_PORT)));
            lab.awaitListening(Host.PUBLIC, SINK_PORT, Duration.ofMinutes(1));
            NetworkLab.ExecResult source = exec(lab, Host.HOME_1, "source", lab.address(Host.PUBLIC), Integer.toString(SINK_PORT),
                    Long.toString(BYTES));
            assertThat(source.ok()).as(source.stderr()).isTrue();
            return sink.get().stdout().strip().replace("throughput ", "");
        }
    }

    private static NetworkLab.ExecResult exec(NetworkLab lab, Host host, String... arguments) {
        List<String> command = new ArrayList<>(NetworkLab.javaCommand("-Xmx128m", "-cp", System.getProperty("java.class.path"),
                SpliceProbe.class.getName()));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = lab.processBuilder(host, command);
        builder.environment().put("FABRIC_OTP", OTP);
        return lab.exec(builder, Duration.ofMinutes(30));
    }
}
