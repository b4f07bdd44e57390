package dev.fabric.spawner.role.pilot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.FileOutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Consumer;

/**
 * The pilot manager's journal, {@code pilots.journal} in its data directory: one JSON
 * {@link PilotRecord} per line, each write forced to the disk before the manager answers anyone.
 * A torn last line (a crash mid-write) is cut off when the journal is opened; a damaged line
 * before the end makes it unreadable, since replaying past it would lose or invent tasks.
 */
final class PilotJournal implements Closeable {

    static final String FILE_NAME = "pilots.journal";

    private static final Logger log = LoggerFactory.getLogger(PilotJournal.class);

    private final Path file;
    private final JsonMapper json;
    /**
     * Plain stream I/O on purpose: a {@code FileChannel} is closed for every thread when one thread
     * writing to it is interrupted, and the manager's loops are stopped by interrupts.
     */
    private final FileOutputStream out;

    private PilotJournal(Path file, JsonMapper json, FileOutputStream out) {
        this.file = file;
        this.json = json;
        this.out = out;
    }

    /** A journal that cannot be replayed: a damaged line before its end. */
    static final class CorruptException extends Exception {
        CorruptException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Opens the journal in {@code directory} (creating it, mode 0600, unless {@code mustExist}) and
     * hands every record to {@code replay} in order.
     *
     * @throws NoSuchFileException when {@code mustExist} and there is none
     */
    static PilotJournal open(Path directory, boolean mustExist, JsonMapper json, Consumer<PilotRecord> replay)
            throws IOException, CorruptException {
        Path file = directory.resolve(FILE_NAME);
        if (Files.notExists(file)) {
            if (mustExist) {
                throw new NoSuchFileException(file.toString(), null, "no pilot journal");
            }
            Files.createDirectories(directory);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        long whole = 0;
        int line = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            long offset = 0;
            while ((text = reader.readLine()) != null) {
                line++;
                long end = offset + text.getBytes(StandardCharsets.UTF_8).length + 1;
                PilotRecord record;
                try {
                    record = json.readValue(text, PilotRecord.class);
                } catch (JacksonException e) {
                    if (end >= Files.size(file)) {
                        log.warn("pilot journal {}: cut off a torn last line {} ({} bytes), left by a crash mid-write", file, line,
                                text.length());
                        break;
                    }
                    throw new CorruptException("at line " + line + ": " + e.getOriginalMessage(), e);
                }
                replay.accept(record);
                offset = end;
                whole = end;
            }
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(whole);
            channel.force(true);
        }
        return new PilotJournal(file, json, new FileOutputStream(file.toFile(), true));
    }

    Path file() {
        return file;
    }

    /** Appends records as one write and forces them to the disk. */
    synchronized void append(List<? extends PilotRecord> records) throws IOException {
        if (records.isEmpty()) {
            return;
        }
        StringBuilder lines = new StringBuilder();
        for (PilotRecord record : records) {
            lines.append(json.writeValueAsString(record)).append('\n');
        }
        out.write(lines.toString().getBytes(StandardCharsets.UTF_8));
        out.getFD().sync();
    }

    void append(PilotRecord record) throws IOException {
        append(List.of(record));
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
