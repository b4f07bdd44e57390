package dev.fabric.spawner.bench;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Signed heartbeats through a bridge against the same heartbeats sent directly, in the same run,
 * alternating rounds: the cost a member pays for reaching the registry through a bridge
 * (docs/connectivity.md). On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service -am verify -Dit.test=BridgeBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false</pre>
 *
 * ({@code -Dbench.clients=16 -Dbench.seconds=8 -Dbench.rounds=3}). Prints its figures; docs/benchmarks.md
 * records them. No assertion on time: machines are noisy.
 */
class BridgeBenchmark {

    static final int CLIENTS = Integer.getInteger("bench.clients", 16);
    static final int SECONDS = Integer.getInteger("bench.seconds", 8);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    static final int MEMBERS = 100;

    @TempDir
    Path dir;

    record Round(double perSecond, double p50, double p99) {}

    @Test
    void heartbeatsThroughABridgeAgainstDirect() throws Exception {
        try (FabricUnderTest fabric = new FabricUnderTest(dir, "--fabric.spawner.bootstrap-timeout=300s", "--fabric.spawner.otp-ttl=300s")) {
            fabric.startSpawner();
            JsonNode spawned = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("type", "bridge", "config", Map.of("max-circuits", "1024"))).retrieve().body(JsonNode.class);
            ServiceInstance bridge = fabric.awaitState(spawned.path("id").asString(), InstanceState.RUNNING, 1, Duration.ofMinutes(5));
            URI relay = URI.create(bridge.endpoints().get("relay"));
            List<String> members = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                String id = "bench-" + i;
                fabric.registry.register(new RegistrationRequest(id, "bench", null, InstanceState.RUNNING, 1L, null, Connectivity.DIRECT,
                        Map.of(), Map.of()));
                members.add(id);
            }
            RegistryClient direct = new RegistryClient(URI.create(fabric.registryUrl), fabric.keys, Duration.ofSeconds(10));
            RegistryClient bridged = new RegistryClient(URI.create(fabric.registryUrl), fabric.keys, Duration.ofSeconds(10),
                    new InetSocketAddress(relay.getHost(), relay.getPort()));
            run(direct, members, 2);
            run(bridged, members, 2);
            List<Round> directRounds = new ArrayList<>();
            List<Round> bridgedRounds = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                directRounds.add(run(direct, members, SECONDS));
                bridgedRounds.add(run(bridged, members, SECONDS));
            }
            Round d = median(directRounds);
            Round b = median(bridgedRounds);
            System.out.printf("BRIDGE direct   %.0f heartbeats/s p50 %.1f ms p99 %.1f ms %s%n", d.perSecond(), d.p50(), d.p99(), directRounds);
            System.out.printf("BRIDGE bridged  %.0f heartbeats/s p50 %.1f ms p99 %.1f ms %s%n", b.perSecond(), b.p50(), b.p99(), bridgedRounds);
            System.out.printf("BRIDGE ratio throughput %.2f, p99 %.2f%n", b.perSecond() / d.perSecond(), b.p99() / d.p99());
        }
    }

    private static Round run(RegistryClient registry, List<String> members, int seconds) throws InterruptedException {
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        AtomicLong failures = new AtomicLong();
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            clients.add(Thread.ofVirtual().start(() -> {
                int i = client;
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    try {
                        registry.heartbeat(members.get(i++ % members.size()), 1);
                        latencies.add(System.nanoTime() - start);
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread client : clients) {
            client.join();
        }
        if (failures.get() > 0) {
            System.out.println("BRIDGE " + failures.get() + " heartbeats failed");
        }
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new Round(sorted.length / (double) seconds, sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6);
    }

    private static Round median(List<Round> rounds) {
        double[] perSecond = rounds.stream().mapToDouble(Round::perSecond).sorted().toArray();
        double[] p50 = rounds.stream().mapToDouble(Round::p50).sorted().toArray();
        double[] p99 = rounds.stream().mapToDouble(Round::p99).sorted().toArray();
        return new Round(perSecond[perSecond.length / 2], p50[p50.length / 2], p99[p99.length / 2]);
    }
}
