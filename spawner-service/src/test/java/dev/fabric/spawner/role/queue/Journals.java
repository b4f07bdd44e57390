package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads and writes journal files directly, to see what the queue left on disk and to damage it. */
final class Journals {

    private Journals() {
    }

    /** Every record of a whole journal; fails the test on a torn or corrupt one. */
    static List<JournalRecord> records(Path journal) throws IOException, JournalCorruptException {
        List<JournalRecord> records = new ArrayList<>();
        try (InputStream in = Files.newInputStream(journal)) {
            JournalDecoder.Decoded decoded = QueueJournal.decode(in, Files.size(journal), (record, offset) -> records.add(record));
            if (decoded.torn()) {
                throw new AssertionError(journal + " ends in a torn record: " + decoded);
            }
        }
        return records;
    }

    /** A journal file holding exactly {@code records}. */
    static void write(Path journal, List<? extends JournalRecord> records) throws IOException {
        Files.createDirectories(journal.getParent());
        ByteBuffer all = ByteBuffer.allocate(1 << 20);
        all.put(QueueJournal.header());
        records.forEach(record -> all.put(QueueJournal.frame(record)));
        Files.write(journal, Arrays.copyOf(all.array(), all.position()));
    }

    static byte[] frame(JournalRecord record) {
        ByteBuffer frame = QueueJournal.frame(record);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        return bytes;
    }
}
