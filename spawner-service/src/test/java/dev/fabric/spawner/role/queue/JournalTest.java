package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.journal.Journal;
import dev.fabric.spawner.role.journal.JournalCorruptException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The journal on a real file: creation, replay, torn tails cut off, damage refused, rewrites. */
class JournalTest {

    @TempDir
    Path dir;

    static JournalRecord.Enqueue enqueue(String body) {
        return new JournalRecord.Enqueue(UUID.randomUUID(), body.getBytes(StandardCharsets.UTF_8));
    }

    static List<JournalRecord> replay(Path dir, boolean mustExist) throws IOException, JournalCorruptException {
        List<JournalRecord> replayed = new ArrayList<>();
        QueueJournal.open(dir, mustExist, (record, offset) -> replayed.add(record)).close();
        return replayed;
    }

    @Test
    void aFirstOpenCreatesAJournalOfJustTheHeader() throws Exception {
        Path data = dir.resolve("member/data");

        try (Journal<JournalRecord> journal = QueueJournal.open(data, false, (record, offset) -> {})) {
            assertThat(journal.size()).isEqualTo(4);
        }
        assertThat(Files.readAllBytes(data.resolve(QueueJournal.FILE_NAME))).isEqualTo(QueueJournal.header());
        assertThat(data.resolve(QueueJournal.COMPACTING_FILE_NAME)).doesNotExist();
    }

    @Test
    void aMissingJournalThatMustExistIsReportedNotCreated() {
        assertThatThrownBy(() -> QueueJournal.open(dir, true, (record, offset) -> {})).isInstanceOf(NoSuchFileException.class);
        assertThat(dir.resolve(QueueJournal.FILE_NAME)).doesNotExist();
    }

    @Test
    void appendedRecordsAreReplayedInOrder() throws Exception {
        JournalRecord.Enqueue a = enqueue("a");
        JournalRecord.Enqueue b = enqueue("b");
        try (Journal<JournalRecord> journal = QueueJournal.open(dir, false, (record, offset) -> {})) {
            journal.append(a);
            journal.append(b);
            journal.append(new JournalRecord.Ack(a.id()));
            assertThat(journal.size()).isEqualTo(Files.size(journal.file()));
        }

        assertThat(replay(dir, true)).containsExactly(a, b, new JournalRecord.Ack(a.id()));
    }

    @Test
    void aTornLastRecordIsCutOffAndTheJournalGoesOnAfterIt() throws Exception {
        JournalRecord.Enqueue a = enqueue("a");
        JournalRecord.Enqueue b = enqueue("b");
        Path file = dir.resolve(QueueJournal.FILE_NAME);
        Journals.write(file, List.of(a, b));
        long whole = Files.size(file);
        // A crash in the middle of writing a third record: only its first 10 bytes reached the disk.
        Files.write(file, Arrays.copyOf(Journals.frame(enqueue("c")), 10), StandardOpenOption.APPEND);

        List<JournalRecord> replayed = new ArrayList<>();
        try (Journal<JournalRecord> journal = QueueJournal.open(dir, true, (record, offset) -> replayed.add(record))) {
            assertThat(replayed).containsExactly(a, b);
            assertThat(Files.size(file)).isEqualTo(whole);
            journal.append(new JournalRecord.Ack(a.id()));
        }

        assertThat(Journals.records(file)).containsExactly(a, b, new JournalRecord.Ack(a.id()));
    }

    @Test
    void aCorruptRecordInTheMiddleIsRefusedAndTheFileLeftAlone() throws Exception {
        Path file = dir.resolve(QueueJournal.FILE_NAME);
        Journals.write(file, List.of(enqueue("first"), enqueue("second"), enqueue("third")));
        byte[] bytes = Files.readAllBytes(file);
        int secondFrame = 4 + Journals.frame(enqueue("first")).length;
        bytes[secondFrame + 8 + 17] ^= 0x01; // one bit of the second body
        Files.write(file, bytes);

        assertThatThrownBy(() -> replay(dir, true)).isInstanceOf(JournalCorruptException.class)
                .hasMessage("at byte " + secondFrame + ": a frame fails its CRC32C check and 30 bytes follow it");
        assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
    }

    @Test
    void aJournalThatIsNotAFileCannotBeRead() throws Exception {
        Files.createDirectories(dir.resolve(QueueJournal.FILE_NAME));

        assertThatThrownBy(() -> replay(dir, true)).isInstanceOf(IOException.class);
    }

    @Test
    void aRewriteLeavesExactlyTheGivenRecordsAndAppendsFollowThem() throws Exception {
        JournalRecord.Enqueue a = enqueue("a");
        JournalRecord.Enqueue b = enqueue("b");
        JournalRecord.Enqueue c = enqueue("c");
        try (Journal<JournalRecord> journal = QueueJournal.open(dir, false, (record, offset) -> {})) {
            journal.append(a);
            journal.append(b);
            journal.append(new JournalRecord.Ack(a.id()));
            journal.rewrite(List.of(b));
            assertThat(journal.size()).isEqualTo(4 + Journals.frame(b).length);
            journal.append(c);
        }

        assertThat(Journals.records(dir.resolve(QueueJournal.FILE_NAME))).containsExactly(b, c);
        assertThat(dir.resolve(QueueJournal.COMPACTING_FILE_NAME)).doesNotExist();
    }

    @Test
    void aCompactionACrashInterruptedIsDiscardedAndTheJournalKept() throws Exception {
        JournalRecord.Enqueue a = enqueue("a");
        Journals.write(dir.resolve(QueueJournal.FILE_NAME), List.of(a));
        Files.write(dir.resolve(QueueJournal.COMPACTING_FILE_NAME), Arrays.copyOf(QueueJournal.header(), 3));

        assertThat(replay(dir, true)).containsExactly(a);
        assertThat(dir.resolve(QueueJournal.COMPACTING_FILE_NAME)).doesNotExist();
    }
}
