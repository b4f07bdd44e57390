package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.stream.HeartbeatChannel;
import dev.fabric.core.registry.stream.HeartbeatFrame;
import dev.fabric.registry.EmbeddedPostgres;
import dev.fabric.registry.RegistryClient;
import dev.fabric.registry.RegistryProcess;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Lease;
import dev.fabric.registry.bench.HeartbeatBenchmark.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * On-demand benchmark, never part of the test suite:
 * {@code ./mvnw -pl registry-service -am verify -Dit.test=StreamHeartbeatBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.clients=32 -Dbench.seconds=8 -Dbench.rounds=3 -Dbench.rate=10000 -Dbench.paced-clients=200}).
 *
 * <p>The registry (the runnable jar, PostgreSQL) and etcd (Debian's {@code etcd-server}, one member on
 * loopback ports 19610-19611 ({@code -Dbench.etcd-port}), a temporary data directory) in the same run, driven by the same number
 * of clients from this JVM, in alternating rounds:
 * <ul>
 *   <li><b>closed loop</b>: each client sends its next heartbeat as soon as the last is answered: a
 *       registry client is one member's heartbeat stream (its own session), an etcd client is one
 *       jetcd {@link Client} keeping its own lease alive with {@code keepAliveOnce};</li>
 *   <li><b>paced</b>: the same clients at a fixed total rate ({@code bench.rate}, 10,000/s: 20,000
 *       members every 2 s), latency counted from when each heartbeat was due, so a stall is not hidden.</li>
 * </ul>
 * Reports rate, p50 and p99 (median round) and the ratio registry / etcd, with the load average.
 * A third, paced row sends nothing: the same clients at the same rate doing a no-op, so its p99 is the
 * load generator's own lateness on this machine at that moment (a floor no server can go below).
 */
class StreamHeartbeatBenchmark {

    static final int CLIENTS = Integer.getInteger("bench.clients", 32);
    static final int PACED_CLIENTS = Integer.getInteger("bench.paced-clients", 200);
    static final int RATE = Integer.getInteger("bench.rate", 10_000);
    static final Duration ROUND = Duration.ofSeconds(Integer.getInteger("bench.seconds", 8));
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    static final int ETCD_PORT = Integer.getInteger("bench.etcd-port", 19610);

    @TempDir
    Path dir;

    /** One client's heartbeat, whatever it goes to. */
    interface Beat {
        void beat() throws Exception;
    }

    @Test
    void registryStreamsAgainstEtcdKeepAlives() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        String jdbc = EmbeddedPostgres.jdbcUrl();
        String fsync;
        try (var connection = DriverManager.getConnection(jdbc, "postgres", "postgres");
             var rows = connection.createStatement().executeQuery("SHOW fsync")) {
            rows.next();
            fsync = rows.getString(1);
        }
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
        int members = Math.max(CLIENTS, PACED_CLIENTS);
        try (RegistryProcess registry = new RegistryProcess(dir.resolve("data"), dir.resolve("keys"), List.of(
                "--spring.datasource.url=" + jdbc, "--spring.datasource.username=postgres", "--spring.datasource.password=postgres",
                "--logging.level.dev.fabric=WARN", "--fabric.security.signature.replay-cache-capacity=5000000",
                // Clients rest between their rounds: failure detection is not measured here (DetectionBenchmark does).
                "--fabric.registry.heartbeat.suspect-after=600", "--fabric.registry.heartbeat.dead-after=600"));
             EtcdPeer etcd = EtcdPeer.start(dir, ETCD_PORT)) {
            registry.start();
            RegistryClient admin = new RegistryClient(registry.url(), keys);
            HttpClient http = HttpClient.newHttpClient();
            List<HeartbeatChannel> channels = new ArrayList<>();
            List<Beat> streams = new ArrayList<>();
            for (int i = 0; i < members; i++) {
                String id = "m" + i;
                admin.post("/api/v1/instances", Map.of("id", id, "type", "bench", "state", "RUNNING"));
                HeartbeatChannel channel = HeartbeatChannel.open(http, URI.create(registry.url()), keys, id, 1, Duration.ofSeconds(30));
                channels.add(channel);
                AtomicLong seq = new AtomicLong();
                streams.add(() -> channel.beat(new HeartbeatFrame(seq.incrementAndGet(), System.currentTimeMillis(), 1, id)));
            }
            List<Client> etcdClients = new ArrayList<>();
            List<Beat> leases = new ArrayList<>();
            for (int i = 0; i < members; i++) {
                Client client = Client.builder().endpoints(etcd.url).build();
                etcdClients.add(client);
                Lease lease = client.getLeaseClient();
                long leaseId = lease.grant(1200).get(10, TimeUnit.SECONDS).getID();
                leases.add(() -> lease.keepAliveOnce(leaseId).get(10, TimeUnit.SECONDS));
            }
            try {
                closedLoop(streams.subList(0, CLIENTS), Duration.ofSeconds(3));
                closedLoop(leases.subList(0, CLIENTS), Duration.ofSeconds(3));
                List<Result> streamClosed = new ArrayList<>();
                List<Result> etcdClosed = new ArrayList<>();
                List<Result> streamPaced = new ArrayList<>();
                List<Result> etcdPaced = new ArrayList<>();
                List<Result> noopPaced = new ArrayList<>();
                List<Beat> noops = streams.stream().<Beat>map(stream -> () -> { }).toList();
                for (int round = 0; round < ROUNDS; round++) {
                    noopPaced.add(paced(noops.subList(0, PACED_CLIENTS), RATE, ROUND));
                    etcdClosed.add(closedLoop(leases.subList(0, CLIENTS), ROUND));
                    streamClosed.add(closedLoop(streams.subList(0, CLIENTS), ROUND));
                    etcdPaced.add(paced(leases.subList(0, PACED_CLIENTS), RATE, ROUND));
                    streamPaced.add(paced(streams.subList(0, PACED_CLIENTS), RATE, ROUND));
                }
                String loadAfter = Files.readString(Path.of("/proc/loadavg")).strip();
                String text = "Heartbeats: the registry's heartbeat streams (PostgreSQL, fsync=" + fsync + ") against etcd "
                        + "lease keep-alives (jetcd keepAliveOnce), same run; " + ROUNDS + " rounds of " + ROUND.toSeconds()
                        + " s, median round; load generator, registry, PostgreSQL and etcd share this machine's "
                        + Runtime.getRuntime().availableProcessors() + " cores. Load average before: " + loadBefore + "; after: "
                        + loadAfter + ".\n\n"
                        + "| mode | clients | registry/s | p50 ms | p99 ms | etcd/s | p50 ms | p99 ms | ratio (registry/etcd) |\n"
                        + "|---|---|---|---|---|---|---|---|---|\n"
                        + row("closed loop", CLIENTS, HeartbeatBenchmark.median(streamClosed), HeartbeatBenchmark.median(etcdClosed))
                        + row("paced at " + RATE + "/s", PACED_CLIENTS, HeartbeatBenchmark.median(streamPaced), HeartbeatBenchmark.median(etcdPaced))
                        + "\nThe load generator alone (the same paced clients sending nothing), same run: "
                        + String.format("p50 %.2f ms, p99 %.2f ms.%n", HeartbeatBenchmark.median(noopPaced).p50Millis(),
                        HeartbeatBenchmark.median(noopPaced).p99Millis());
                System.out.println(text);
                Files.createDirectories(Path.of("target", "benchmarks"));
                Files.writeString(Path.of("target", "benchmarks", "stream-heartbeats.md"), text);
            } finally {
                channels.forEach(HeartbeatChannel::close);
                etcdClients.forEach(Client::close);
            }
        }
    }

    static String row(String mode, int clients, Result registry, Result etcd) {
        return String.format("| %s | %d | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f |%n", mode, clients, registry.perSecond(),
                registry.p50Millis(), registry.p99Millis(), etcd.perSecond(), etcd.p50Millis(), etcd.p99Millis(),
                registry.perSecond() / etcd.perSecond())
                + (registry.errors() + etcd.errors() > 0 ? "(errors: " + registry.errors() + " registry, " + etcd.errors() + " etcd)\n" : "");
    }

    /** Each client on its own virtual thread, back to back, for the duration. */
    static Result closedLoop(List<Beat> clients, Duration duration) throws InterruptedException {
        return drive(clients, duration, 0);
    }

    /** The clients together at {@code rate} per second, each on its own schedule; latency from when a beat was due. */
    static Result paced(List<Beat> clients, int rate, Duration duration) throws InterruptedException {
        return drive(clients, duration, rate);
    }

    private static Result drive(List<Beat> clients, Duration duration, int rate) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long period = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) * clients.size() / rate;
        AtomicLong errors = new AtomicLong();
        long[][] perClient = new long[clients.size()][];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            int index = c;
            Beat client = clients.get(c);
            threads.add(Thread.ofVirtual().start(() -> {
                long[] latencies = new long[1 << 12];
                int n = 0;
                // Paced clients start spread over one period, as members' heartbeats are.
                long due = start + (period == 0 ? 0 : period * index / clients.size());
                while (true) {
                    long now = System.nanoTime();
                    if (period > 0 && due > now) {
                        try {
                            Thread.sleep(Duration.ofNanos(due - now));
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    long t0 = period > 0 ? due : System.nanoTime();
                    if (t0 >= end) {
                        break;
                    }
                    try {
                        client.beat();
                    } catch (Exception e) {
                        if (errors.getAndIncrement() == 0) {
                            System.out.println("first failed heartbeat: " + e);
                        }
                    }
                    if (n == latencies.length) {
                        latencies = Arrays.copyOf(latencies, n * 2);
                    }
                    latencies[n++] = (System.nanoTime() - t0) / 1000;
                    due += period;
                }
                perClient[index] = Arrays.copyOf(latencies, n);
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] all = Arrays.stream(perClient).flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(all.length / seconds, all[all.length / 2] / 1000.0, all[(int) (all.length * 0.99)] / 1000.0, errors.get());
    }
}
