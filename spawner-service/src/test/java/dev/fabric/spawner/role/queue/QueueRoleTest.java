package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.StateUnrecoverableException;
import dev.fabric.spawner.web.SpawnerException;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The role's life: first start, stop, recovery under the same id, and the states it refuses to recover. */
class QueueRoleTest {

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));

    RoleContext context(boolean restart) {
        return new RoleContext("queue-7", restart ? 2 : 1, dir.resolve("queue-7"), Map.of(), restart);
    }

    @Test
    void isTheQueueRoleWhoseLossTravelsUp() {
        QueueRole role = new QueueRole();

        assertThat(role.name()).isEqualTo("queue");
        assertThat(role.policy().replaceWhenLost()).isFalse();
        assertThat(role.endpoints()).isEqualTo(Map.of("queue", "/queue/v1"));
    }

    @Test
    void refusesServiceUntilStartedAndAfterStopped() {
        QueueRole role = new QueueRole(clock, 10);
        assertThat(role.status()).isEqualTo(Map.of("started", false));
        assertThatThrownBy(role::queue).isInstanceOfSatisfying(SpawnerException.class, e -> {
            assertThat(e.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE.value());
            assertThat(e.reason()).isEqualTo("queue-not-started");
            assertThat(e.getMessage()).startsWith("queue role not started");
        });

        role.start(context(false));
        role.queue().enqueue("x".getBytes(StandardCharsets.UTF_8));
        assertThat(role.status()).containsEntry("started", true).containsEntry("ready", 1).containsEntry("leased", 0)
                .containsEntry("acked", 0L).containsEntry("journalBytes", 4L + 8 + 17 + 1);

        role.stop();
        assertThatThrownBy(role::queue).isInstanceOf(SpawnerException.class);
    }

    @Test
    void aRestartUnderTheSameIdBringsBackEveryUnackedMessage() throws Exception {
        QueueRole first = new QueueRole(clock, 10);
        first.start(context(false));
        UUID kept = first.queue().enqueue("kept".getBytes(StandardCharsets.UTF_8));
        UUID leased = first.queue().enqueue("leased, not acked".getBytes(StandardCharsets.UTF_8));
        UUID gone = first.queue().enqueue("acked".getBytes(StandardCharsets.UTF_8));
        List<WorkQueue.Leased> leases = first.queue().lease(3, Duration.ofMinutes(5));
        first.queue().ack(leases.get(2).leaseId());
        // No stop(): every enqueue and ack was forced, as if the process had been killed here.

        QueueRole second = new QueueRole(clock, 10);
        second.recover(context(true));
        second.start(context(true));

        assertThat(second.queue().unacked()).extracting(JournalRecord::id).containsExactly(kept, leased).doesNotContain(gone);
        assertThat(second.status()).containsEntry("ready", 2);
        first.stop();
        second.stop();
    }

    @Test
    void aTornLastWriteIsRecoveredFrom() throws Exception {
        QueueRole first = new QueueRole(clock, 10);
        first.start(context(false));
        UUID id = first.queue().enqueue("safe".getBytes(StandardCharsets.UTF_8));
        first.stop();
        Path journal = context(true).dataDirectory().resolve(QueueJournal.FILE_NAME);
        byte[] torn = Arrays.copyOf(Journals.frame(new JournalRecord.Ack(id)), 20);
        Files.write(journal, torn, StandardOpenOption.APPEND);

        QueueRole second = new QueueRole(clock, 10);
        second.recover(context(true));
        second.start(context(true));

        assertThat(second.queue().unacked()).extracting(JournalRecord::id).containsExactly(id);
        second.stop();
    }

    @Test
    void aMissingJournalOnARestartIsUnrecoverable() {
        QueueRole role = new QueueRole(clock, 10);

        assertThatThrownBy(() -> role.recover(context(true))).isInstanceOf(StateUnrecoverableException.class)
                .hasMessageContaining("queue.journal is missing, so the messages of queue-7 are gone");
        assertThat(context(true).dataDirectory()).doesNotExist();
    }

    @Test
    void aCorruptJournalIsUnrecoverableAndSaysWhere() throws Exception {
        Path journal = context(true).dataDirectory().resolve(QueueJournal.FILE_NAME);
        JournalRecord.Enqueue first = new JournalRecord.Enqueue(UUID.randomUUID(), "first".getBytes(StandardCharsets.UTF_8));
        Journals.write(journal, List.of(first, new JournalRecord.Ack(first.id())));
        byte[] bytes = Files.readAllBytes(journal);
        bytes[4 + 8] ^= 0x40;
        Files.write(journal, bytes);

        QueueRole role = new QueueRole(clock, 10);
        assertThatThrownBy(() -> role.recover(context(true))).isInstanceOf(StateUnrecoverableException.class)
                .hasMessageContaining("is corrupt at byte 4: a frame fails its CRC32C check and 25 bytes follow it");
    }

    @Test
    void anUnreadableJournalIsUnrecoverable() throws Exception {
        Files.createDirectories(context(true).dataDirectory().resolve(QueueJournal.FILE_NAME));

        QueueRole role = new QueueRole(clock, 10);
        assertThatThrownBy(() -> role.recover(context(true))).isInstanceOf(StateUnrecoverableException.class)
                .hasMessageContaining("queue.journal cannot be read");
    }

    @Test
    void aCorruptJournalFailsAFirstStartToo() throws Exception {
        Files.createDirectories(context(false).dataDirectory());
        Files.write(context(false).dataDirectory().resolve(QueueJournal.FILE_NAME), "not a journal".getBytes(StandardCharsets.UTF_8));

        QueueRole role = new QueueRole(clock, 10);
        assertThatThrownBy(() -> role.start(context(false))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is corrupt at byte 0");
        assertThatThrownBy(role::queue).isInstanceOf(SpawnerException.class);
    }
}
