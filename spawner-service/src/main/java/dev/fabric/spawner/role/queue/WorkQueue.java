package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.journal.Journal;
import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The queue itself: messages in memory, every enqueue and ack in the {@link Journal} before it is
 * answered, leases in memory only. Delivery is at least once: a message leaves the queue only when
 * acked; a lease that is nacked or outlives its visibility timeout makes its message visible again,
 * and so does a restart. Ready messages are handed out oldest first.
 */
final class WorkQueue implements Closeable {

    /** Compact no sooner than this many records, so a small journal is not rewritten over and over. */
    static final int DEFAULT_COMPACT_MIN_RECORDS = 1024;

    /** Finished leases remembered, to tell "expired" and "already acked" from "never issued". */
    private static final int FINISHED_LEASES_KEPT = 10_000;

    private static final Logger log = LoggerFactory.getLogger(WorkQueue.class);

    /** A message handed out under a lease. */
    record Leased(UUID id, UUID leaseId, byte[] body, int deliveries, Instant deadline) {}

    /** Counts: ready to lease, leased now, acked since this queue was opened. */
    record Stats(int ready, int leased, long acked, long journalBytes) {}

    /** A message not yet acked; {@code sequence} is its place in the journal, which sets the delivery order. */
    private static final class Entry {
        final UUID id;
        final byte[] body;
        final long sequence;
        int deliveries;
        Lease lease;

        Entry(UUID id, byte[] body, long sequence) {
            this.id = id;
            this.body = body;
            this.sequence = sequence;
        }
    }

    private record Lease(UUID id, Entry entry, Instant deadline) {}

    /** How a lease ended. */
    private enum Outcome { ACKED, NACKED, EXPIRED }

    private final Journal<JournalRecord> journal;
    private final Clock clock;
    private final int compactMinRecords;
    private final Map<UUID, Entry> unacked = new HashMap<>();
    private final TreeMap<Long, Entry> ready = new TreeMap<>();
    private final Map<UUID, Lease> leases = new HashMap<>();
    private final PriorityQueue<Lease> byDeadline = new PriorityQueue<>(Comparator.comparing(Lease::deadline));
    private final Map<UUID, Outcome> finished = recent();
    /** Messages withdrawn lately, so that withdrawing one again answers as the first time did. */
    private final Map<UUID, Boolean> withdrawn = recent();
    private long nextSequence;
    private long acked;
    /** Records in the journal, and how many of them are dead (an ack and the enqueue it names). */
    private long records;
    private long deadRecords;
    /** After a failed compaction, the record count at which to try again (not on every ack). */
    private long compactRetryAt;
    private boolean closed;

    private WorkQueue(Journal<JournalRecord> journal, Clock clock, int compactMinRecords, Replay replay) {
        this.journal = journal;
        this.clock = clock;
        this.compactMinRecords = compactMinRecords;
        replay.live.values().forEach(enqueue -> {
            Entry entry = new Entry(enqueue.id(), enqueue.bodyUnsafe(), nextSequence++);
            unacked.put(entry.id, entry);
            ready.put(entry.sequence, entry);
        });
        this.records = replay.records;
        this.deadRecords = replay.records - replay.live.size();
    }

    /** A map of the last {@value #FINISHED_LEASES_KEPT} entries put in it, the eldest dropped first. */
    private static <V> Map<UUID, V> recent() {
        return new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<UUID, V> eldest) {
                return size() > FINISHED_LEASES_KEPT;
            }
        };
    }

    /**
     * Opens the queue whose journal is in {@code directory}, replaying it.
     *
     * @param mustExist a restart: the journal must be there
     */
    static WorkQueue open(Path directory, boolean mustExist, Clock clock, int compactMinRecords) throws IOException, JournalCorruptException {
        Replay replay = new Replay();
        Journal<JournalRecord> journal = QueueJournal.open(directory, mustExist, replay);
        WorkQueue queue = new WorkQueue(journal, clock, compactMinRecords, replay);
        synchronized (queue) {
            queue.compactIfDominated();
        }
        log.info("queue journal {}: {} messages not yet acked ({} records, {} bytes)", journal.file(), queue.unacked.size(),
                queue.records, journal.size());
        return queue;
    }

    /** Rebuilds the set of not-yet-acked messages, in journal order, and checks the journal makes sense. */
    private static final class Replay implements JournalDecoder.Sink<JournalRecord> {
        final LinkedHashMap<UUID, JournalRecord.Enqueue> live = new LinkedHashMap<>();
        long records;

        @Override
        public void accept(JournalRecord record, long offset) throws JournalCorruptException {
            switch (record) {
                case JournalRecord.Enqueue enqueue -> {
                    if (live.putIfAbsent(enqueue.id(), enqueue) != null) {
                        throw new JournalCorruptException(offset, "message " + enqueue.id() + " is enqueued a second time");
                    }
                }
                case JournalRecord.Ack ack -> {
                    // Acks are written only for live messages, and compaction drops both records together.
                    if (live.remove(ack.id()) == null) {
                        throw new JournalCorruptException(offset, "an ack names message " + ack.id()
                                + ", which is not in the queue at that point");
                    }
                }
            }
            records++;
        }
    }

    /** Stores a message durably; returns its id. */
    synchronized UUID enqueue(byte[] body) {
        return enqueueAll(List.of(body)).getFirst();
    }

    /**
     * Stores several messages durably with one journal write (one force to the disk for all), in
     * this order; returns their ids. All of them are stored, or none.
     */
    synchronized List<UUID> enqueueAll(List<byte[]> bodies) {
        ensureOpen();
        List<JournalRecord.Enqueue> batch = new ArrayList<>(bodies.size());
        for (byte[] body : bodies) {
            if (body.length > JournalFormat.MAX_BODY_BYTES) {
                throw new IllegalArgumentException("a body of " + body.length + " bytes is over " + JournalFormat.MAX_BODY_BYTES);
            }
            batch.add(new JournalRecord.Enqueue(UUID.randomUUID(), body));
        }
        write(batch, "enqueue");
        List<UUID> ids = new ArrayList<>(batch.size());
        for (JournalRecord.Enqueue record : batch) {
            Entry entry = new Entry(record.id(), record.bodyUnsafe(), nextSequence++);
            unacked.put(entry.id, entry);
            ready.put(entry.sequence, entry);
            records++;
            ids.add(entry.id);
        }
        notifyAll();
        return ids;
    }

    /**
     * {@link #lease(int, Duration)}, waiting up to {@code wait} for a message when none is ready (a
     * long poll): an enqueue, a nack or an expired lease ends the wait at once.
     */
    synchronized List<Leased> lease(int max, Duration visibility, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<Leased> leased = lease(max, visibility);
            long left = deadline - System.nanoTime();
            if (!leased.isEmpty() || left <= 0) {
                return leased;
            }
            long untilExpiry = byDeadline.isEmpty() ? left
                    : Math.max(0, Duration.between(clock.instant(), byDeadline.peek().deadline()).toNanos());
            TimeUnit.NANOSECONDS.timedWait(this, Math.max(1_000_000, Math.min(left, untilExpiry)));
        }
    }

    /** Leases up to {@code max} ready messages, oldest first, each under its own lease, until now + {@code visibility}. */
    synchronized List<Leased> lease(int max, Duration visibility) {
        ensureOpen();
        Instant now = clock.instant();
        reclaimExpired(now);
        Instant deadline = now.plus(visibility);
        List<Leased> leased = new ArrayList<>(Math.min(max, ready.size()));
        while (leased.size() < max && !ready.isEmpty()) {
            Entry entry = ready.pollFirstEntry().getValue();
            Lease lease = new Lease(UUID.randomUUID(), entry, deadline);
            entry.lease = lease;
            entry.deliveries++;
            leases.put(lease.id(), lease);
            byDeadline.add(lease);
            leased.add(new Leased(entry.id, lease.id(), entry.body.clone(), entry.deliveries, deadline));
        }
        return leased;
    }

    /** Removes the leased message for good. Acking the same lease again is a no-op. */
    synchronized void ack(UUID leaseId) {
        Lease lease = activeLease(leaseId, Outcome.ACKED);
        if (lease != null) {
            acknowledge(List.of(lease));
        }
    }

    /**
     * Acks several leases with one journal write (one force for all): each live one is removed for
     * good, one acked before is a no-op, and any other (expired, nacked, unknown) is refused alone,
     * without holding up the rest; answers the refusals, by lease.
     */
    synchronized Map<UUID, SpawnerException> ackAll(List<UUID> leaseIds) {
        Map<UUID, SpawnerException> refused = new LinkedHashMap<>();
        Map<UUID, Lease> live = new LinkedHashMap<>();
        for (UUID leaseId : leaseIds) {
            try {
                Lease lease = activeLease(leaseId, Outcome.ACKED);
                if (lease != null) {
                    live.putIfAbsent(leaseId, lease);
                }
            } catch (SpawnerException e) {
                refused.put(leaseId, e);
            }
        }
        if (!live.isEmpty()) {
            acknowledge(List.copyOf(live.values()));
        }
        return refused;
    }

    private void acknowledge(List<Lease> done) {
        write(done.stream().map(lease -> new JournalRecord.Ack(lease.entry().id)).toList(), "ack");
        for (Lease lease : done) {
            endLease(lease, Outcome.ACKED);
            unacked.remove(lease.entry().id);
            acked++;
            records++;
            deadRecords += 2;
        }
        compactIfDominated();
    }

    /**
     * Takes a message back that no consumer holds, for good, as an ack would once it was leased: its
     * producer withdraws it (a pilot manager canceling a task no agent took yet). Withdrawing it again
     * is a no-op.
     *
     * @return true when the message is gone (now or by an earlier withdrawal); false when a consumer
     *         holds it now: its lease decides, and an ack or a nack ends it as usual
     */
    synchronized boolean withdraw(UUID id) {
        ensureOpen();
        reclaimExpired(clock.instant());
        if (withdrawn.containsKey(id)) {
            return true;
        }
        Entry entry = unacked.get(id);
        if (entry == null) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "message-unknown", "message " + id + " is not in this queue: it was never "
                    + "enqueued here, or a consumer acked it (it was delivered and done with)");
        }
        if (entry.lease != null) {
            return false;
        }
        write(List.of(new JournalRecord.Ack(id)), "withdraw");
        ready.remove(entry.sequence);
        unacked.remove(id);
        withdrawn.put(id, Boolean.TRUE);
        records++;
        deadRecords += 2;
        compactIfDominated();
        return true;
    }

    /** Gives the leased message back: visible again at once. Nacking the same lease again is a no-op. */
    synchronized void nack(UUID leaseId) {
        Lease lease = activeLease(leaseId, Outcome.NACKED);
        if (lease == null) {
            return;
        }
        endLease(lease, Outcome.NACKED);
        ready.put(lease.entry().sequence, lease.entry());
        notifyAll();
    }

    /**
     * Moves a live lease's deadline to now + {@code visibility} (a consumer still at work on its
     * message); returns the new deadline. Extending an ended lease is an error, as acking it is.
     */
    synchronized Instant extend(UUID leaseId, Duration visibility) {
        Lease lease = activeLease(leaseId, null);
        Lease extended = new Lease(lease.id(), lease.entry(), clock.instant().plus(visibility));
        byDeadline.remove(lease);
        byDeadline.add(extended);
        leases.put(extended.id(), extended);
        lease.entry().lease = extended;
        return extended.deadline();
    }

    synchronized Stats stats() {
        ensureOpen();
        reclaimExpired(clock.instant());
        return new Stats(ready.size(), leases.size(), acked, journal.size());
    }

    /** The messages not yet acked (ready or leased), in delivery order: what a restart would bring back. */
    synchronized List<JournalRecord.Enqueue> unacked() {
        return unacked.values().stream().sorted(Comparator.comparingLong(e -> e.sequence))
                .map(e -> new JournalRecord.Enqueue(e.id, e.body)).toList();
    }

    Path journalFile() {
        return journal.file();
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        notifyAll();
        journal.close();
    }

    /** A call that raced with the role's stop gets the same answer as one after it. */
    private void ensureOpen() {
        if (closed) {
            throw QueueRole.notStarted();
        }
    }

    /**
     * The live lease, or null when {@code leaseId} already ended as {@code repeat} (a retried call;
     * {@code null}: no repeat is harmless); any other ending is an error the client must hear about.
     */
    private Lease activeLease(UUID leaseId, Outcome repeat) {
        ensureOpen();
        reclaimExpired(clock.instant());
        Lease lease = leases.get(leaseId);
        if (lease != null) {
            return lease;
        }
        Outcome outcome = finished.get(leaseId);
        if (repeat != null && outcome == repeat) {
            return null;
        }
        if (outcome == null) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "lease-unknown", "lease " + leaseId + " is unknown to this queue: it was "
                    + "never issued, or issued before the queue restarted (leases do not survive a restart, their messages are "
                    + "delivered again); lease the message again");
        }
        String action = repeat == Outcome.ACKED ? "acked" : repeat == Outcome.NACKED ? "nacked" : "extended";
        throw switch (outcome) {
            case EXPIRED -> new SpawnerException(HttpStatus.CONFLICT, "lease-expired", "lease " + leaseId + " expired before it was "
                    + action + ": its message is visible again and will be delivered again; lease it again");
            case NACKED -> new SpawnerException(HttpStatus.CONFLICT, "lease-nacked", "lease " + leaseId + " was nacked, so it cannot be "
                    + action + ": its message is visible again; lease it again");
            case ACKED -> new SpawnerException(HttpStatus.CONFLICT, "lease-acked", "lease " + leaseId + " was acked, so it cannot be "
                    + action + ": its message is gone for good");
        };
    }

    private void endLease(Lease lease, Outcome outcome) {
        leases.remove(lease.id());
        byDeadline.remove(lease);
        lease.entry().lease = null;
        finished.put(lease.id(), outcome);
    }

    /** Makes the messages of leases whose deadline has come visible again. */
    private void reclaimExpired(Instant now) {
        while (!byDeadline.isEmpty() && !byDeadline.peek().deadline().isAfter(now)) {
            Lease lease = byDeadline.poll();
            endLease(lease, Outcome.EXPIRED);
            ready.put(lease.entry().sequence, lease.entry());
            log.debug("lease {} of message {} expired; the message is visible again", lease.id(), lease.entry().id);
        }
    }

    private void write(List<? extends JournalRecord> batch, String operation) {
        try {
            journal.appendAll(batch);
        } catch (IOException e) {
            log.error("queue journal {}: could not write an {} record", journal.file(), operation, e);
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "journal-unavailable", "the queue could not write its journal ("
                    + e.getMessage() + "), so the " + operation + " did not happen; retry, and if this persists look at the member's "
                    + "disk and log");
        }
    }

    /** Rewrites the journal when acked messages make up most of it. */
    private void compactIfDominated() {
        if (records < compactMinRecords || records < compactRetryAt || deadRecords * 2 <= records) {
            return;
        }
        long before = journal.size();
        try {
            journal.rewrite(unacked());
        } catch (IOException e) {
            // The journal still holds everything (the move is atomic); try again once it has grown some more.
            compactRetryAt = records + compactMinRecords;
            log.warn("queue journal {}: compaction failed, going on with the old journal: {}", journal.file(), e.toString());
            return;
        }
        log.info("queue journal {}: compacted {} records ({} bytes) to {} messages ({} bytes)", journal.file(), records, before,
                unacked.size(), journal.size());
        records = unacked.size();
        deadRecords = 0;
    }
}
