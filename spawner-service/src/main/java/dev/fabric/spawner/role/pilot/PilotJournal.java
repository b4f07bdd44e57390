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
import java.nio.file.StandardCopyOption;
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
    /** Where a compaction writes before the atomic move; a leftover one is from a crash mid-compaction. */
    static final String COMPACTING = FILE_NAME + ".compacting";

    private static final Logger log = LoggerFactory.getLogger(PilotJournal.class);

    private final Path file;
    private final JsonMapper json;
    private long size;
    /**
     * Plain stream I/O on purpose: a {@code FileChannel} is closed for every thread when one thread
     * writing to it is interrupted, and the manager's loops are stopped by interrupts.
     */
    private FileOutputStream out;

    private PilotJournal(Path file, JsonMapper json, FileOutputStream out, long size) {
        this.file = file;
        this.json = json;
        this.out = out;
        this.size = size;
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
        if (Files.deleteIfExists(directory.resolve(COMPACTING))) {
            log.info("pilot journal {}: removed {}, left by a compaction a crash interrupted; the journal itself is whole", file, COMPACTING);
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
        return new PilotJournal(file, json, new FileOutputStream(file.toFile(), true), whole);
    }

    Path file() {
        return file;
    }

    /** The journal's length in bytes. */
    synchronized long size() {
        return size;
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
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        out.write(bytes);
        out.getFD().sync();
        size += bytes.length;
    }

    /**
     * Replaces the journal with exactly {@code records}, atomically: written whole to a temporary file
     * beside it (mode 0600) and forced, moved over it, the directory forced. A crash at any point leaves
     * either the old journal or the new one, whole; on failure the old one stays in use.
     */
    synchronized void rewrite(List<? extends PilotRecord> records) throws IOException {
        Path directory = file.getParent();
        Path temp = directory.resolve(COMPACTING);
        Files.deleteIfExists(temp);
        long length;
        try (FileOutputStream whole = new FileOutputStream(Files.createFile(temp,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))).toFile())) {
            StringBuilder lines = new StringBuilder();
            for (PilotRecord record : records) {
                lines.append(json.writeValueAsString(record)).append('\n');
            }
            byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
            whole.write(bytes);
            whole.getFD().sync();
            length = bytes.length;
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        // The old stream now writes into an unlinked file: from here on only the new one is written.
        out.close();
        out = new FileOutputStream(file.toFile(), true);
        size = length;
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    void append(PilotRecord record) throws IOException {
        append(List.of(record));
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
