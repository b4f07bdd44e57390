package dev.fabric.spawner.bench;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.stream.HeartbeatStream;
import dev.fabric.core.registry.stream.MemberHeartbeat;
import dev.fabric.spawner.FabricUnderTest;
import dev.fabric.spawner.reach.ReverseChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Heartbeats through a bridge against direct, in the same run (issue 14; docs/benchmarks.md,
 * "Heartbeats through a bridge against direct"). On demand, never part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=BridgeHeartbeatBenchmark -Dtest=NONE \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false</pre>
 *
 * ({@code -Dbench.members=200 -Dbench.clients=16 -Dbench.seconds=8 -Dbench.rounds=3 -Dbench.interval-ms=200}).
 *
 * <p>The parts are real: the registry (in this JVM, H2), a spawner process, and a bridge member
 * spawned by it (the {@code bridge} role's relay port, the one {@code via} / {@code FABRIC_VIA}
 * names). The members are registered with the registry as a member registers itself (RUNNING,
 * incarnation 1, a bridged one with {@code connectivity} and {@code metadata.via} naming the
 * bridge) and heartbeat with the clients a member heartbeats with:
 * <ul>
 *   <li><b>direct, stream</b>: {@link MemberHeartbeat} over a {@link HeartbeatStream}, what a member that reaches the
 *       registry itself uses ({@code MemberNode});</li>
 *   <li><b>direct, signed</b>: the signed {@code POST .../heartbeat} of {@link RegistryClient}, a member's fallback;</li>
 *   <li><b>bridged, signed</b>: the same signed call sent to the bridge's relay port as to an HTTP proxy
 *       ({@link RegistryClient} with {@link ReverseChannel#relayAddress}), what a member with {@code via} uses: the
 *       bridge relays HTTP exchanges, not the stream's WebSocket, so a bridged member heartbeats this way.</li>
 * </ul>
 * Each is measured closed loop ({@code bench.clients} callers back to back over {@code bench.members}
 * members) and paced (every member heartbeating every {@code bench.interval-ms}), with p50 and p99;
 * rounds alternate, each round with members of its own (registered before, deregistered after, so
 * the registry's failure detector never sees a member go quiet between rounds), and the median
 * round is reported with the ratio bridged/direct. Every heartbeat must be accepted: a refusal
 * fails the run (a benchmark of refused heartbeats measures nothing). The bridge's own outward
 * exchange counter must grow by at least the bridged heartbeats: they crossed the bridge. No
 * assertion on time: machines are noisy.
 */
class BridgeHeartbeatBenchmark {

    static final int MEMBERS = Integer.getInteger("bench.members", 200);
    static final int CLIENTS = Integer.getInteger("bench.clients", 16);
    static final Duration ROUND = Duration.ofSeconds(Integer.getInteger("bench.seconds", 8));
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    static final Duration INTERVAL = Duration.ofMillis(Integer.getInteger("bench.interval-ms", 200));

    @TempDir
    Path dir;

    record Result(double perSecond, double p50Millis, double p99Millis, long beats, Map<String, Long> refusals) {}

    /** One way of heartbeating: how a member of it registers, and its heartbeat client. */
    interface HeartbeatPath {
        String name();

        RegistrationRequest registration(String id);

        /** A heartbeat function for one member; not shared between threads. */
        Beat beater(String id);
    }

    interface Beat extends AutoCloseable {
        void beat();

        @Override
        default void close() {}
    }

    @Test
    void heartbeatsThroughABridgeAgainstDirect() throws Exception {
        // The registry at the members' own heartbeat interval (2 s, dead after 10 s), not the tests' quick 1 s.
        try (FabricUnderTest fabric = new FabricUnderTest(dir, Duration.ofSeconds(2), "--fabric.spawner.bootstrap-timeout=300s",
                "--fabric.spawner.otp-ttl=300s")) {
            fabric.startSpawner();
            JsonNode spawned = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("type", "bridge", "config", Map.of("max-circuits", "1024"))).retrieve().body(JsonNode.class);
            String bridgeId = spawned.path("id").asString();
            ServiceInstance bridge = fabric.awaitState(bridgeId, InstanceState.RUNNING, 1, Duration.ofMinutes(5));
            URI relay = URI.create(bridge.endpoints().get("relay"));
            URI registryUrl = URI.create(fabric.registryUrl);

            RegistryClient direct = new RegistryClient(registryUrl, fabric.keys, Duration.ofSeconds(10));
            // As MemberNode.attachToBridge builds it for a member with via: the registry's own URL, sent to the relay port.
            RegistryClient bridged = new RegistryClient(registryUrl, fabric.keys, Duration.ofSeconds(10), ReverseChannel.relayAddress(relay));
            HeartbeatPath directStream = new Named("direct, stream (a member's own)", id -> registration(id, Connectivity.DIRECT, Map.of()),
                    id -> {
                        MemberHeartbeat heartbeat = new MemberHeartbeat(direct,
                                new HeartbeatStream(registryUrl, fabric.keys, id, 1, Duration.ofSeconds(10), Clock.systemUTC()), id, 1);
                        return new Beat() {
                            @Override
                            public void beat() {
                                if (!heartbeat.beat()) {
                                    throw new RegistryCallException(0, "stream-fell-back", "the heartbeat went by the signed call", null);
                                }
                            }

                            @Override
                            public void close() {
                                heartbeat.close();
                            }
                        };
                    });
            HeartbeatPath directSigned = new Named("direct, signed HTTP", id -> registration(id, Connectivity.DIRECT, Map.of()),
                    id -> () -> direct.heartbeat(id, 1));
            HeartbeatPath bridgedSigned = new Named("through the bridge, signed HTTP (a bridged member's own)",
                    id -> registration(id, Connectivity.FIREWALL_TO_SERVICE, Map.of("via", bridgeId)),
                    id -> () -> bridged.heartbeat(id, 1));
            List<HeartbeatPath> paths = List.of(directStream, directSigned, bridgedSigned);

            double outwardBefore = bridgeOutward(fabric, bridge);
            // Warm-up: every path, closed loop, not counted.
            for (HeartbeatPath path : paths) {
                closedLoop(direct, path, "warm", Duration.ofSeconds(3));
            }
            Map<HeartbeatPath, List<Result>> closed = new LinkedHashMap<>();
            Map<HeartbeatPath, List<Result>> paced = new LinkedHashMap<>();
            paths.forEach(p -> {
                closed.put(p, new ArrayList<>());
                paced.put(p, new ArrayList<>());
            });
            double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            for (int round = 0; round < ROUNDS; round++) {
                for (HeartbeatPath path : paths) {
                    closed.get(path).add(closedLoop(direct, path, "c" + round, ROUND));
                }
                for (HeartbeatPath path : paths) {
                    paced.get(path).add(paced(direct, path, "p" + round, ROUND));
                }
            }
            double loadAfter = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            long bridgedBeats = closed.get(bridgedSigned).stream().mapToLong(Result::beats).sum()
                    + paced.get(bridgedSigned).stream().mapToLong(Result::beats).sum();
            double crossed = bridgeOutward(fabric, bridge) - outwardBefore;

            StringBuilder text = new StringBuilder();
            text.append(String.format("Heartbeats through a bridge against direct: %d members, %d rounds of %d s per path and mode, "
                            + "median round; load average %.1f before, %.1f after, on %d cores. The bridge relayed %.0f exchanges outward "
                            + "(>= %d bridged heartbeats).%n%n", MEMBERS, ROUNDS, ROUND.toSeconds(), loadBefore, loadAfter,
                    Runtime.getRuntime().availableProcessors(), crossed, bridgedBeats));
            text.append(table("Closed loop, " + CLIENTS + " callers back to back", closed, directStream, directSigned, bridgedSigned));
            text.append(table("Paced, each member every " + INTERVAL.toMillis() + " ms (offered "
                    + (MEMBERS * 1000 / INTERVAL.toMillis()) + "/s)", paced, directStream, directSigned, bridgedSigned));
            System.out.println(text);
            Files.createDirectories(Path.of("target", "benchmarks"));
            Files.writeString(Path.of("target", "benchmarks", "bridge-heartbeats.md"), text);

            for (Map<HeartbeatPath, List<Result>> mode : List.of(closed, paced)) {
                mode.forEach((path, results) -> results.forEach(r ->
                        assertThat(r.refusals()).as("heartbeats refused on %s", path.name()).isEmpty()));
            }
            assertThat(crossed).as("the bridge's outward exchanges").isGreaterThanOrEqualTo(bridgedBeats);
        }
    }

    record Named(String name, Function<String, RegistrationRequest> registrations,
                 Function<String, Beat> beaters) implements HeartbeatPath {
        @Override
        public RegistrationRequest registration(String id) {
            return registrations.apply(id);
        }

        @Override
        public Beat beater(String id) {
            return beaters.apply(id);
        }
    }

    /** What a member registers when its role starts (MemberNode.register), with no parent: nobody supervises a benchmark's members. */
    static RegistrationRequest registration(String id, Connectivity connectivity, Map<String, String> metadata) {
        return new RegistrationRequest(id, "bench", null, InstanceState.RUNNING, 1L, null, connectivity, Map.of(), metadata);
    }

    /**
     * A round's members of one path: each registered and its first heartbeat sent (a stream's
     * session opened, as a running member's is), CLIENTS at a time, so none is declared dead before
     * the clock starts.
     */
    static List<Beat> members(RegistryClient registry, HeartbeatPath path, String round) throws Exception {
        String prefix = "hb-" + Integer.toHexString(path.name().hashCode() & 0xffff) + "-" + round + "-";
        List<Beat> members = new ArrayList<>();
        try (var executor = Executors.newFixedThreadPool(CLIENTS, Thread.ofVirtual().factory())) {
            List<Future<Beat>> started = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                String id = prefix + i;
                started.add(executor.submit(() -> {
                    assertThat(registry.register(path.registration(id)).state()).isEqualTo(InstanceState.RUNNING);
                    Beat beat = path.beater(id);
                    beat.beat();
                    return beat;
                }));
            }
            for (Future<Beat> each : started) {
                members.add(each.get());
            }
        }
        return members;
    }

    /** Closes the members' heartbeat clients and deregisters them, so the registry's failure detector has nothing to do. */
    static void end(RegistryClient registry, List<Beat> members, HeartbeatPath path, String round) throws Exception {
        members.forEach(Beat::close);
        String prefix = "hb-" + Integer.toHexString(path.name().hashCode() & 0xffff) + "-" + round + "-";
        try (var executor = Executors.newFixedThreadPool(CLIENTS, Thread.ofVirtual().factory())) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                String id = prefix + i;
                done.add(executor.submit(() -> registry.deregister(id)));
            }
            for (Future<?> each : done) {
                each.get();
            }
        }
    }

    /** CLIENTS callers, each heartbeating its share of the members in turn, back to back. */
    static Result closedLoop(RegistryClient registry, HeartbeatPath path, String round, Duration duration) throws Exception {
        List<Beat> members = members(registry, path, round);
        try {
            List<List<Beat>> shares = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                List<Beat> share = new ArrayList<>();
                for (int i = c; i < members.size(); i += CLIENTS) {
                    share.add(members.get(i));
                }
                shares.add(share);
            }
            return run(CLIENTS, shares::get, duration, Duration.ZERO);
        } finally {
            end(registry, members, path, round);
        }
    }

    /** Every member its own caller, a heartbeat every INTERVAL (as members heartbeat), their starts spread over one interval. */
    static Result paced(RegistryClient registry, HeartbeatPath path, String round, Duration duration) throws Exception {
        List<Beat> members = members(registry, path, round);
        try {
            return run(members.size(), c -> List.of(members.get(c)), duration, INTERVAL);
        } finally {
            end(registry, members, path, round);
        }
    }

    /**
     * Runs {@code callers} virtual threads for the duration; each heartbeats its members in turn,
     * waiting {@code interval} from the start of one heartbeat to the next (none: back to back).
     */
    static Result run(int callers, IntFunction<List<Beat>> shares, Duration duration, Duration interval) throws Exception {
        Map<String, Long> refusals = new ConcurrentHashMap<>();
        long started = System.nanoTime();
        long end = started + duration.toNanos();
        long[][] perCaller = new long[callers][];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            int index = c;
            long offset = interval.toNanos() * c / callers;
            threads.add(Thread.ofVirtual().start(() -> {
                List<Beat> share = shares.apply(index);
                long[] latencies = new long[1 << 12];
                int n = 0;
                long next = started + offset;
                int turn = 0;
                try {
                    while (true) {
                        if (interval.isPositive()) {
                            long wait = next - System.nanoTime();
                            if (wait > 0) {
                                Thread.sleep(Duration.ofNanos(wait));
                            }
                            next += interval.toNanos();
                        }
                        long t0 = System.nanoTime();
                        if (t0 >= end) {
                            break;
                        }
                        try {
                            share.get(turn++ % share.size()).beat();
                            if (n == latencies.length) {
                                latencies = Arrays.copyOf(latencies, n * 2);
                            }
                            latencies[n++] = (System.nanoTime() - t0) / 1000;
                        } catch (RegistryCallException e) {
                            refusals.merge(e.status() + " " + e.reason(), 1L, Long::sum);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                perCaller[index] = Arrays.copyOf(latencies, n);
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long[] all = Arrays.stream(perCaller).flatMapToLong(Arrays::stream).sorted().toArray();
        if (all.length == 0) {
            return new Result(0, Double.NaN, Double.NaN, 0, Map.copyOf(refusals));
        }
        return new Result(all.length / seconds, all[all.length / 2] / 1000.0, all[(int) (all.length * 0.99)] / 1000.0, all.length,
                Map.copyOf(refusals));
    }

    /** The bridge's count of exchanges relayed outward (its Prometheus metric). */
    static double bridgeOutward(FabricUnderTest fabric, ServiceInstance bridge) {
        String text = fabric.signedClient(bridge.endpoints().get("management")).get().uri("/actuator/prometheus")
                .retrieve().body(String.class);
        return text.lines().filter(l -> l.startsWith("fabric_bridge_exchanges_total") && l.contains("direction=\"outward\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    static Result median(List<Result> results) {
        List<Result> sorted = new ArrayList<>(results);
        sorted.sort((a, b) -> Double.compare(a.perSecond(), b.perSecond()));
        return sorted.get(sorted.size() / 2);
    }

    static String table(String title, Map<HeartbeatPath, List<Result>> results, HeartbeatPath directStream, HeartbeatPath directSigned, HeartbeatPath bridged) {
        StringBuilder text = new StringBuilder("#### " + title + "\n\n| path | heartbeats/s | p50 ms | p99 ms | rounds (heartbeats/s) |\n|---|---|---|---|---|\n");
        results.forEach((path, rounds) -> {
            Result m = median(rounds);
            text.append(String.format("| %s | %.0f | %.1f | %.1f | %s |%n", path.name(), m.perSecond(), m.p50Millis(), m.p99Millis(),
                    rounds.stream().map(r -> String.format("%.0f", r.perSecond())).toList()));
        });
        Result b = median(results.get(bridged));
        for (HeartbeatPath against : List.of(directSigned, directStream)) {
            Result d = median(results.get(against));
            text.append(String.format("%nbridged / %s: heartbeats/s %.2f, p50 %.2f, p99 %.2f", against.name(), b.perSecond() / d.perSecond(),
                    b.p50Millis() / d.p50Millis(), b.p99Millis() / d.p99Millis()));
        }
        return text.append("\n\n").toString();
    }
}
