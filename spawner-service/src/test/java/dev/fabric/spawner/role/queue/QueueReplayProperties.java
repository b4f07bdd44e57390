package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.web.SpawnerException;
import dev.fabric.testsupport.MutableClock;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.springframework.http.HttpStatus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any run of enqueues, leases, acks, nacks, passing time and restarts leaves a journal that replays
 * to exactly the messages not yet acked; along the way the queue answers as a plain model says
 * (which messages a lease hands out, which acks and nacks succeed and how the others fail).
 * Compaction is set to kick in after a handful of records, so runs go through it too.
 */
class QueueReplayProperties {

    static final Duration VISIBILITY = Duration.ofSeconds(10);
    static final int COMPACT_MIN_RECORDS = 4;

    sealed interface Op {
        record Enqueue(byte[] body) implements Op {
            @Override
            public String toString() {
                return "Enqueue[" + body.length + " bytes]";
            }
        }

        record Lease(int max) implements Op {}

        record Ack(int pick) implements Op {}

        record Nack(int pick) implements Op {}

        record Advance(int seconds) implements Op {}

        record Restart() implements Op {}
    }

    @Provide
    Arbitrary<List<Op>> runs() {
        Arbitrary<Op> op = Arbitraries.<Op>frequencyOf(
                Tuple.of(4, Arbitraries.bytes().array(byte[].class).ofMaxSize(24).map(Op.Enqueue::new)),
                Tuple.of(4, Arbitraries.integers().between(1, 4).map(Op.Lease::new)),
                Tuple.of(6, Arbitraries.integers().between(0, 1000).map(Op.Ack::new)),
                Tuple.of(2, Arbitraries.integers().between(0, 1000).map(Op.Nack::new)),
                Tuple.of(2, Arbitraries.integers().between(1, 15).map(Op.Advance::new)),
                Tuple.of(1, Arbitraries.just(new Op.Restart())));
        return op.list().ofMinSize(15).ofMaxSize(80);
    }

    /** What the test knows of a lease it was given. */
    static final class HeldLease {
        final UUID leaseId;
        final UUID messageId;
        final Instant deadline;
        final int incarnation;
        String outcome; // null while live; "acked", "nacked"

        HeldLease(UUID leaseId, UUID messageId, Instant deadline, int incarnation) {
            this.leaseId = leaseId;
            this.messageId = messageId;
            this.deadline = deadline;
            this.incarnation = incarnation;
        }
    }

    @Property(tries = 300)
    void theJournalReplaysToExactlyTheUnackedMessages(@ForAll("runs") List<Op> run) throws Exception {
        Path dir = Files.createTempDirectory("queue-replay");
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        WorkQueue queue = WorkQueue.open(dir, false, clock, COMPACT_MIN_RECORDS);
        try {
            LinkedHashMap<UUID, byte[]> unacked = new LinkedHashMap<>();
            Map<UUID, Integer> deliveries = new HashMap<>();
            List<HeldLease> held = new ArrayList<>();
            int incarnation = 0;
            boolean compacted = false;
            boolean restarted = false;
            for (Op op : run) {
                WorkQueue open = queue;
                switch (op) {
                    case Op.Enqueue enqueue -> unacked.put(queue.enqueue(enqueue.body()), enqueue.body());
                    case Op.Lease lease -> {
                        Instant now = clock.instant();
                        int current = incarnation;
                        List<UUID> expected = unacked.keySet().stream()
                                .filter(id -> held.stream().noneMatch(h -> h.messageId.equals(id) && live(h, now, current)))
                                .limit(lease.max()).toList();
                        List<WorkQueue.Leased> leased = queue.lease(lease.max(), VISIBILITY);
                        assertThat(leased).extracting(WorkQueue.Leased::id).containsExactlyElementsOf(expected);
                        for (WorkQueue.Leased message : leased) {
                            assertThat(message.body()).isEqualTo(unacked.get(message.id()));
                            assertThat(message.deliveries()).isEqualTo(deliveries.merge(message.id(), 1, Integer::sum));
                            held.add(new HeldLease(message.leaseId(), message.id(), message.deadline(), incarnation));
                        }
                    }
                    case Op.Ack ack -> {
                        if (!held.isEmpty()) {
                            HeldLease lease = pick(held, ack.pick(), clock.instant(), incarnation);
                            long before = open.stats().journalBytes();
                            boolean done = settle(() -> open.ack(lease.leaseId), lease, "acked", clock.instant(), incarnation);
                            if (done) {
                                unacked.remove(lease.messageId);
                                // An ack only grows the journal, unless it set off a compaction.
                                compacted |= open.stats().journalBytes() < before;
                            }
                        }
                    }
                    case Op.Nack nack -> {
                        if (!held.isEmpty()) {
                            HeldLease lease = pick(held, nack.pick(), clock.instant(), incarnation);
                            settle(() -> open.nack(lease.leaseId), lease, "nacked", clock.instant(), incarnation);
                        }
                    }
                    case Op.Advance advance -> clock.advance(Duration.ofSeconds(advance.seconds()));
                    case Op.Restart ignored -> {
                        queue.close();
                        queue = WorkQueue.open(dir, true, clock, COMPACT_MIN_RECORDS);
                        incarnation++;
                        deliveries.clear();
                        restarted = true;
                    }
                }
            }
            assertSameMessages(queue.unacked(), unacked);
            queue.close();

            queue = WorkQueue.open(dir, true, clock, COMPACT_MIN_RECORDS);
            assertSameMessages(queue.unacked(), unacked);
            assertThat(queue.stats().ready()).isEqualTo(unacked.size());

            // The runs must go through the paths that matter for replay, not just stay short.
            Statistics.label("compacted").collect(compacted);
            Statistics.label("compacted").coverage(coverage -> coverage.check(true).percentage(p -> p >= 20));
            Statistics.label("restarted").collect(restarted);
            Statistics.label("restarted").coverage(coverage -> coverage.check(true).percentage(p -> p >= 40));
        } finally {
            queue.close();
            deleteTree(dir);
        }
    }

    /** Half the time a live lease, when there is one, so acks succeed often enough to compact; else any lease held. */
    private static HeldLease pick(List<HeldLease> held, int pick, Instant now, int incarnation) {
        List<HeldLease> live = held.stream().filter(h -> live(h, now, incarnation)).toList();
        List<HeldLease> from = pick % 2 == 0 && !live.isEmpty() ? live : held;
        return from.get(pick / 2 % from.size());
    }

    private static boolean live(HeldLease lease, Instant now, int incarnation) {
        return lease.outcome == null && lease.incarnation == incarnation && lease.deadline.isAfter(now);
    }

    /**
     * Acks or nacks a held lease and checks the queue's answer against the model: a live lease
     * settles; the same call again is a no-op; a lease from before a restart is unknown; an expired
     * or otherwise settled lease is a conflict. Returns whether the call settled a live lease.
     */
    private static boolean settle(Runnable call, HeldLease lease, String outcome, Instant now, int incarnation) {
        HttpStatus expectedRefusal;
        if (lease.incarnation != incarnation) {
            expectedRefusal = HttpStatus.NOT_FOUND;
        } else if (outcome.equals(lease.outcome)) {
            expectedRefusal = null;
        } else if (lease.outcome != null || !lease.deadline.isAfter(now)) {
            expectedRefusal = HttpStatus.CONFLICT;
        } else {
            call.run();
            lease.outcome = outcome;
            return true;
        }
        try {
            call.run();
            assertThat(expectedRefusal).as("the queue accepted what the model refuses").isNull();
        } catch (SpawnerException e) {
            assertThat(HttpStatus.valueOf(e.status())).as(e.getMessage()).isEqualTo(expectedRefusal);
        }
        return false;
    }

    private static void assertSameMessages(List<JournalRecord.Enqueue> actual, LinkedHashMap<UUID, byte[]> expected) {
        List<JournalRecord.Enqueue> model = expected.entrySet().stream()
                .map(e -> new JournalRecord.Enqueue(e.getKey(), e.getValue())).toList();
        assertThat(actual).isEqualTo(model);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
