package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.web.SpawnerException;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Delivery semantics: leases, expiry on an injected clock, ack, nack, restart and compaction. */
class WorkQueueTest {

    static final Duration VISIBILITY = Duration.ofSeconds(30);
    static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(START);
    WorkQueue queue;

    @BeforeEach
    void open() throws Exception {
        queue = WorkQueue.open(dir, false, clock, WorkQueue.DEFAULT_COMPACT_MIN_RECORDS);
    }

    @AfterEach
    void close() throws Exception {
        queue.close();
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    WorkQueue.Leased leaseOne() {
        List<WorkQueue.Leased> leased = queue.lease(1, VISIBILITY);
        assertThat(leased).hasSize(1);
        return leased.getFirst();
    }

    static void assertRefused(Runnable call, HttpStatus status, String reason) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(SpawnerException.class, e -> {
            assertThat(e.status()).isEqualTo(status.value());
            assertThat(e.reason()).isEqualTo(reason);
        });
    }

    @Test
    void aWithdrawnMessageIsNeverDeliveredNotEvenAfterARestart() throws Exception {
        UUID kept = queue.enqueue(text("kept"));
        UUID taken = queue.enqueue(text("taken back"));

        assertThat(queue.withdraw(taken)).isTrue();
        assertThat(queue.withdraw(taken)).as("again: the same answer").isTrue();
        assertThat(leaseOne().id()).isEqualTo(kept);
        assertThat(queue.lease(1, VISIBILITY)).isEmpty();
        assertThat(queue.unacked()).extracting(JournalRecord.Enqueue::id).containsExactly(kept);

        queue.close();
        queue = WorkQueue.open(dir, true, clock, WorkQueue.DEFAULT_COMPACT_MIN_RECORDS);
        assertThat(queue.unacked()).as("after a restart").extracting(JournalRecord.Enqueue::id).containsExactly(kept);
        assertRefused(() -> queue.withdraw(taken), HttpStatus.NOT_FOUND, "message-unknown");
    }

    @Test
    void aLeasedMessageIsNotWithdrawnItsLeaseDecides() {
        UUID id = queue.enqueue(text("held"));
        WorkQueue.Leased held = leaseOne();

        assertThat(queue.withdraw(id)).as("a consumer holds it").isFalse();
        queue.nack(held.leaseId());
        assertThat(queue.withdraw(id)).as("given back: nobody holds it").isTrue();
        assertThat(queue.lease(1, VISIBILITY)).isEmpty();

        UUID acked = queue.enqueue(text("done"));
        queue.ack(leaseOne().leaseId());
        assertRefused(() -> queue.withdraw(acked), HttpStatus.NOT_FOUND, "message-unknown");
        assertRefused(() -> queue.withdraw(UUID.randomUUID()), HttpStatus.NOT_FOUND, "message-unknown");
    }

    @Test
    void aLeasedMessageIsInvisibleUntilItsDeadlineThenDeliveredAgain() {
        UUID id = queue.enqueue(text("job"));

        WorkQueue.Leased first = leaseOne();
        assertThat(first.id()).isEqualTo(id);
        assertThat(first.deliveries()).isEqualTo(1);
        assertThat(first.deadline()).isEqualTo(START.plus(VISIBILITY));

        clock.advance(VISIBILITY.minusSeconds(1));
        assertThat(queue.lease(1, VISIBILITY)).isEmpty();
        assertThat(queue.stats()).isEqualTo(new WorkQueue.Stats(0, 1, 0, queue.stats().journalBytes()));

        clock.advance(Duration.ofSeconds(1));
        WorkQueue.Leased second = leaseOne();
        assertThat(second.id()).isEqualTo(id);
        assertThat(text(second.body())).isEqualTo("job");
        assertThat(second.deliveries()).isEqualTo(2);
        assertThat(second.leaseId()).isNotEqualTo(first.leaseId());
    }

    @Test
    void anExtendedLeaseOutlivesItsFirstDeadline() {
        UUID id = queue.enqueue(text("job"));
        WorkQueue.Leased leased = leaseOne();
        clock.advance(VISIBILITY.minusSeconds(1));

        assertThat(queue.extend(leased.leaseId(), VISIBILITY)).isEqualTo(START.plus(VISIBILITY.minusSeconds(1)).plus(VISIBILITY));
        clock.advance(VISIBILITY.minusSeconds(1));

        assertThat(queue.lease(1, VISIBILITY)).isEmpty();
        queue.ack(leased.leaseId());
        assertThat(queue.unacked()).extracting(JournalRecord::id).doesNotContain(id);
    }

    @Test
    void anEndedLeaseCannotBeExtended() {
        queue.enqueue(text("one"));
        queue.enqueue(text("two"));
        WorkQueue.Leased acked = leaseOne();
        WorkQueue.Leased expired = leaseOne();
        queue.ack(acked.leaseId());
        clock.advance(VISIBILITY);

        assertRefused(() -> queue.extend(acked.leaseId(), VISIBILITY), HttpStatus.CONFLICT, "lease-acked");
        assertRefused(() -> queue.extend(expired.leaseId(), VISIBILITY), HttpStatus.CONFLICT, "lease-expired");
        assertRefused(() -> queue.extend(UUID.randomUUID(), VISIBILITY), HttpStatus.NOT_FOUND, "lease-unknown");
    }

    @Test
    void aWaitingLeaseIsAnsweredByTheNextEnqueue() throws Exception {
        java.util.concurrent.CompletableFuture<List<WorkQueue.Leased>> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return queue.lease(1, VISIBILITY, Duration.ofMinutes(5));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        UUID id = queue.enqueue(text("job"));

        assertThat(waiting.get(60, java.util.concurrent.TimeUnit.SECONDS)).extracting(WorkQueue.Leased::id).containsExactly(id);
    }

    @Test
    void aWaitingLeaseWithNothingToLeaseEndsEmptyAfterItsWait() throws Exception {
        assertThat(queue.lease(1, VISIBILITY, Duration.ofMillis(50))).isEmpty();
    }

    @Test
    void ackingAnExpiredLeaseIsAConflictAndTheMessageStays() {
        UUID id = queue.enqueue(text("job"));
        WorkQueue.Leased leased = leaseOne();
        clock.advance(VISIBILITY);

        assertRefused(() -> queue.ack(leased.leaseId()), HttpStatus.CONFLICT, "lease-expired");
        assertRefused(() -> queue.nack(leased.leaseId()), HttpStatus.CONFLICT, "lease-expired");
        assertThat(queue.unacked()).extracting(JournalRecord::id).containsExactly(id);
        assertThat(queue.stats().ready()).isEqualTo(1);
    }

    @Test
    void anExpiredLeaseStaysExpiredWhenItsMessageIsLeasedAgain() {
        queue.enqueue(text("job"));
        WorkQueue.Leased stale = leaseOne();
        clock.advance(VISIBILITY);
        WorkQueue.Leased current = leaseOne();

        assertRefused(() -> queue.ack(stale.leaseId()), HttpStatus.CONFLICT, "lease-expired");
        queue.ack(current.leaseId());
        assertThat(queue.unacked()).isEmpty();
    }

    @Test
    void aNackedMessageIsVisibleAtOnceAndCountsTheNextDelivery() {
        UUID id = queue.enqueue(text("job"));
        WorkQueue.Leased first = leaseOne();

        queue.nack(first.leaseId());

        WorkQueue.Leased again = leaseOne();
        assertThat(again.id()).isEqualTo(id);
        assertThat(again.deliveries()).isEqualTo(2);
    }

    @Test
    void unknownLeasesAreNotFound() {
        assertRefused(() -> queue.ack(UUID.randomUUID()), HttpStatus.NOT_FOUND, "lease-unknown");
        assertRefused(() -> queue.nack(UUID.randomUUID()), HttpStatus.NOT_FOUND, "lease-unknown");
    }

    @Test
    void repeatingAnAckOrANackIsANoOpButSwitchingIsAConflict() throws Exception {
        queue.enqueue(text("a"));
        queue.enqueue(text("b"));
        List<WorkQueue.Leased> leased = queue.lease(2, VISIBILITY);
        UUID acked = leased.get(0).leaseId();
        UUID nacked = leased.get(1).leaseId();

        queue.ack(acked);
        queue.ack(acked);
        queue.nack(nacked);
        queue.nack(nacked);

        assertRefused(() -> queue.nack(acked), HttpStatus.CONFLICT, "lease-acked");
        assertRefused(() -> queue.ack(nacked), HttpStatus.CONFLICT, "lease-nacked");
        assertThat(Journals.records(queue.journalFile())).filteredOn(JournalRecord.Ack.class::isInstance).hasSize(1);
        assertThat(queue.stats()).extracting(WorkQueue.Stats::ready, WorkQueue.Stats::leased, WorkQueue.Stats::acked)
                .containsExactly(1, 0, 1L);
    }

    @Test
    void readyMessagesGoOutOldestFirstRedeliveriesIncluded() {
        UUID a = queue.enqueue(text("a"));
        UUID b = queue.enqueue(text("b"));
        UUID c = queue.enqueue(text("c"));
        List<WorkQueue.Leased> firstTwo = queue.lease(2, VISIBILITY);
        assertThat(firstTwo).extracting(WorkQueue.Leased::id).containsExactly(a, b);

        queue.nack(firstTwo.get(1).leaseId());

        assertThat(queue.lease(10, VISIBILITY)).extracting(WorkQueue.Leased::id).containsExactly(b, c);
    }

    @Test
    void everyEnqueueAndAckIsOnDiskWhenTheCallReturns() throws Exception {
        UUID a = queue.enqueue(text("a"));
        UUID b = queue.enqueue(text("b"));
        queue.ack(leaseOne().leaseId());

        assertThat(Journals.records(queue.journalFile())).containsExactly(new JournalRecord.Enqueue(a, text("a")),
                new JournalRecord.Enqueue(b, text("b")), new JournalRecord.Ack(a));
        assertThat(queue.stats().journalBytes()).isEqualTo(Files.size(queue.journalFile()));
    }

    @Test
    void aBulkEnqueueAndABulkAckAreEachOneWriteOnDiskWhenTheCallReturns() throws Exception {
        List<UUID> ids = queue.enqueueAll(List.of(text("a"), text("b"), text("c")));
        long afterEnqueue = Files.size(queue.journalFile());
        List<WorkQueue.Leased> leased = queue.lease(3, VISIBILITY);

        Map<UUID, SpawnerException> refused = queue.ackAll(List.of(leased.get(0).leaseId(), leased.get(2).leaseId(), leased.get(0).leaseId()));

        assertThat(refused).isEmpty();
        assertThat(afterEnqueue).isGreaterThan(0);
        assertThat(Journals.records(queue.journalFile())).containsExactly(new JournalRecord.Enqueue(ids.get(0), text("a")),
                new JournalRecord.Enqueue(ids.get(1), text("b")), new JournalRecord.Enqueue(ids.get(2), text("c")),
                new JournalRecord.Ack(ids.get(0)), new JournalRecord.Ack(ids.get(2)));
        assertThat(queue.unacked()).extracting(JournalRecord::id).containsExactly(ids.get(1));
    }

    @Test
    void aBulkAckRefusesEachLeaseThatCannotBeAckedAloneAndAcksTheRest() {
        queue.enqueueAll(List.of(text("a"), text("b"), text("c")));
        List<WorkQueue.Leased> leased = queue.lease(3, VISIBILITY);
        queue.nack(leased.get(1).leaseId());
        UUID unknown = UUID.randomUUID();

        Map<UUID, SpawnerException> refused = queue.ackAll(List.of(leased.get(0).leaseId(), leased.get(1).leaseId(), unknown,
                leased.get(2).leaseId()));

        assertThat(refused.keySet()).containsExactly(leased.get(1).leaseId(), unknown);
        assertThat(refused.values()).extracting(SpawnerException::reason).containsExactly("lease-nacked", "lease-unknown");
        assertThat(queue.stats().acked()).isEqualTo(2);
        assertThat(queue.unacked()).extracting(JournalRecord::id).containsExactly(leased.get(1).id());
    }

    @Test
    void aBulkEnqueueWithABodyOverTheLimitStoresNone() {
        assertThatThrownBy(() -> queue.enqueueAll(List.of(text("a"), new byte[JournalFormat.MAX_BODY_BYTES + 1])))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(queue.unacked()).isEmpty();
    }

    @Test
    void aRestartDeliversLeasedButUnackedMessagesAgainAndForgetsTheirLeases() throws Exception {
        UUID a = queue.enqueue(text("a"));
        UUID b = queue.enqueue(text("b"));
        UUID c = queue.enqueue(text("c"));
        List<WorkQueue.Leased> leased = queue.lease(2, VISIBILITY);
        queue.ack(leased.get(0).leaseId());
        queue.close();

        queue = WorkQueue.open(dir, true, clock, WorkQueue.DEFAULT_COMPACT_MIN_RECORDS);

        assertRefused(() -> queue.ack(leased.get(1).leaseId()), HttpStatus.NOT_FOUND, "lease-unknown");
        List<WorkQueue.Leased> again = queue.lease(10, VISIBILITY);
        assertThat(again).extracting(WorkQueue.Leased::id).containsExactly(b, c);
        assertThat(again).extracting(WorkQueue.Leased::deliveries).containsExactly(1, 1);
        assertThat(again).extracting(m -> text(m.body())).containsExactly("b", "c");
        assertThat(a).isNotIn(again.stream().map(WorkQueue.Leased::id).toList());
    }

    @Test
    void compactionKeepsExactlyTheUnackedMessagesInOrder() throws Exception {
        queue.close();
        queue = WorkQueue.open(dir, true, clock, 10);
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ids.add(queue.enqueue(text("m" + i)));
        }
        List<WorkQueue.Leased> leased = queue.lease(8, VISIBILITY);
        queue.ack(leased.get(0).leaseId());
        queue.ack(leased.get(1).leaseId());
        long beforeCompaction = Files.size(queue.journalFile());
        assertThat(Journals.records(queue.journalFile())).hasSize(10);

        // 11 records, 6 of them dead: past half, so this ack rewrites the journal.
        queue.ack(leased.get(2).leaseId());

        List<JournalRecord.Enqueue> kept = new ArrayList<>();
        for (int i = 3; i < 8; i++) {
            kept.add(new JournalRecord.Enqueue(ids.get(i), text("m" + i)));
        }
        assertThat(Journals.records(queue.journalFile())).isEqualTo(kept);
        assertThat(Files.size(queue.journalFile())).isLessThan(beforeCompaction);
        assertThat(queue.stats()).extracting(WorkQueue.Stats::leased, WorkQueue.Stats::acked).containsExactly(5, 3L);

        // The leases survive the rewrite, and the journal goes on after it.
        queue.ack(leased.get(3).leaseId());
        queue.close();
        queue = WorkQueue.open(dir, true, clock, 10);
        assertThat(queue.unacked()).isEqualTo(kept.subList(1, 5));
    }

    @Test
    void openingAJournalDominatedByAcksCompactsIt() throws Exception {
        List<JournalRecord> history = new ArrayList<>();
        JournalRecord.Enqueue survivor = new JournalRecord.Enqueue(UUID.randomUUID(), text("survivor"));
        history.add(survivor);
        for (int i = 0; i < 20; i++) {
            UUID id = UUID.randomUUID();
            history.add(new JournalRecord.Enqueue(id, text("done " + i)));
            history.add(new JournalRecord.Ack(id));
        }
        queue.close();
        Journals.write(dir.resolve(QueueJournal.FILE_NAME), history);

        queue = WorkQueue.open(dir, true, clock, 10);

        assertThat(Journals.records(queue.journalFile())).containsExactly(survivor);
        assertThat(queue.unacked()).containsExactly(survivor);
    }

    @Test
    void anInterruptedWriteFailsOnlyThatCallAndTheJournalGoesOn() throws Exception {
        UUID before = queue.enqueue(text("before"));

        // An interrupt closes the FileChannel in the middle of the write.
        Thread.currentThread().interrupt();
        try {
            assertRefused(() -> queue.enqueue(text("interrupted")), HttpStatus.SERVICE_UNAVAILABLE, "journal-unavailable");
        } finally {
            Thread.interrupted();
        }
        UUID after = queue.enqueue(text("after"));

        assertThat(queue.unacked()).extracting(JournalRecord::id).containsExactly(before, after);
        assertThat(Journals.records(queue.journalFile())).containsExactly(new JournalRecord.Enqueue(before, text("before")),
                new JournalRecord.Enqueue(after, text("after")));
    }

    @Test
    void callsAfterCloseAreRefusedAsNotStarted() throws Exception {
        queue.enqueue(text("a"));
        queue.close();

        assertRefused(() -> queue.enqueue(text("b")), HttpStatus.SERVICE_UNAVAILABLE, "queue-not-started");
        assertRefused(() -> queue.lease(1, VISIBILITY), HttpStatus.SERVICE_UNAVAILABLE, "queue-not-started");
        assertThat(Journals.records(queue.journalFile())).hasSize(1);
    }

    @Test
    void aJournalThatAcksAMessageItNeverEnqueuedIsCorrupt() throws Exception {
        queue.close();
        Journals.write(dir.resolve(QueueJournal.FILE_NAME), List.of(new JournalRecord.Enqueue(UUID.randomUUID(), text("x")),
                new JournalRecord.Ack(UUID.fromString("00000000-0000-0000-0000-000000000001"))));

        assertThatThrownBy(() -> WorkQueue.open(dir, true, clock, 10)).isInstanceOf(JournalCorruptException.class)
                .hasMessage("at byte 30: an ack names message 00000000-0000-0000-0000-000000000001, which is not in the queue at "
                        + "that point");
    }
}
