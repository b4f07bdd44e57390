package dev.fabric.registry.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.stream.HeartbeatStream;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Members of the detection benchmark as a fabric member runs them: register RUNNING, then heartbeat
 * every interval over a heartbeat stream. One process holds at most some 19,000 sockets here (open
 * files are limited to 20,000), so the benchmark runs part of its members in a second JVM through
 * {@link #main}: {@code registryUrls keyDir prefix from to rampMillis silenceAtEpochMillis stopAtEpochMillis}.
 * Even-numbered members fall silent at the silence instant; all stop at the stop instant.
 */
final class StreamMembers {

    static final Duration INTERVAL = Duration.ofSeconds(2);

    /**
     * What went wrong, by kind, how many heartbeats failed or took longer than an interval, and how
     * long registrations took (the slowest, and how many answered after the members fell silent).
     */
    record Outcome(Map<String, Integer> failures, long failedBeats, long slowBeats, long slowestMillis, long slowestRegistrationMillis,
                   long lateRegistrations, Set<String> gaveUp) {
        String describe() {
            return "failed heartbeats " + failedBeats + ", slower than one interval " + slowBeats + ", slowest " + slowestMillis
                    + " ms, slowest registration " + slowestRegistrationMillis + " ms, registrations answered after the silence "
                    + lateRegistrations + ", failures by kind " + failures;
        }
    }

    private StreamMembers() {}

    static Outcome run(List<String> registries, FabricKeys keys, String prefix, int from, int to, long rampMillis,
                       long silenceAt, long stopAt) throws InterruptedException {
        Map<String, Integer> failures = new ConcurrentHashMap<>();
        AtomicLong failedBeats = new AtomicLong();
        AtomicLong slowBeats = new AtomicLong();
        AtomicLong slowest = new AtomicLong();
        AtomicLong slowestRegistration = new AtomicLong();
        AtomicLong lateRegistrations = new AtomicLong();
        Set<String> gaveUp = ConcurrentHashMap.newKeySet();
        List<Thread> members = new ArrayList<>();
        // One client per registry for all registrations: a client each made the load generator start a
        // thread pool and a selector thread per member, thousands at once, and starve before the registry did.
        // It is fabric-core's, as members use it: a registration refused for the moment is tried again
        // after Retry-After with jitter (RegistrationRetry).
        Map<String, RegistryClient> clients = new ConcurrentHashMap<>();
        registries.forEach(url -> clients.put(url, new RegistryClient(URI.create(url), keys, Duration.ofSeconds(30))));
        long start = System.currentTimeMillis();
        for (int i = from; i < to; i++) {
            String id = prefix + i;
            boolean dies = i % 2 == 0;
            String url = registries.get(i % registries.size());
            long offset = rampMillis * (i - from) / Math.max(1, to - from);
            members.add(Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(Math.max(0, start + offset - System.currentTimeMillis()));
                    long asked = System.currentTimeMillis();
                    RuntimeException refused = null;
                    try {
                        clients.get(url).register(new RegistrationRequest(id, "bench", null, InstanceState.RUNNING, 1L, null, null,
                                null, null));
                    } catch (RuntimeException e) {
                        refused = e;
                    }
                    long answered = System.currentTimeMillis();
                    slowestRegistration.accumulateAndGet(answered - asked, Math::max);
                    if (answered >= silenceAt) {
                        lateRegistrations.incrementAndGet();
                    }
                    if (refused != null) {
                        // A member that cannot register exits, as MemberNode does: it never ran, whatever the
                        // registry recorded of an attempt whose answer it did not get.
                        gaveUp.add(id);
                        failures.merge(refused instanceof RegistryCallException e ? "register " + e.status() + " " + e.reason()
                                : "register " + refused.getClass().getSimpleName(), 1, Integer::sum);
                        return;
                    }
                    try (HeartbeatStream stream = new HeartbeatStream(URI.create(url), keys, id, 1, Duration.ofSeconds(10),
                            Clock.systemUTC())) {
                        while (System.currentTimeMillis() < stopAt && !(dies && System.currentTimeMillis() >= silenceAt)) {
                            long t0 = System.nanoTime();
                            try {
                                stream.beat();
                            } catch (RegistryCallException e) {
                                failedBeats.incrementAndGet();
                                failures.merge("heartbeat " + e.status() + " " + e.reason(), 1, Integer::sum);
                            }
                            long tookMs = (System.nanoTime() - t0) / 1_000_000;
                            slowest.accumulateAndGet(tookMs, Math::max);
                            if (tookMs > INTERVAL.toMillis()) {
                                slowBeats.incrementAndGet();
                            }
                            Thread.sleep(Math.max(0, INTERVAL.toMillis() - tookMs));
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread member : members) {
            member.join();
        }
        return new Outcome(Map.copyOf(failures), failedBeats.get(), slowBeats.get(), slowest.get(), slowestRegistration.get(),
                lateRegistrations.get(), Set.copyOf(gaveUp));
    }

    public static void main(String[] args) throws Exception {
        Outcome outcome = run(List.of(args[0].split(",")), FabricKeys.load(Path.of(args[1])), args[2], Integer.parseInt(args[3]),
                Integer.parseInt(args[4]), Long.parseLong(args[5]), Long.parseLong(args[6]), Long.parseLong(args[7]));
        System.out.println("OUTCOME " + outcome.failedBeats() + " " + outcome.slowBeats() + " " + outcome.slowestMillis() + " "
                + outcome.slowestRegistrationMillis() + " " + outcome.lateRegistrations() + " " + outcome.failures());
        System.out.println("GAVEUP " + String.join(",", outcome.gaveUp()));
    }
}
