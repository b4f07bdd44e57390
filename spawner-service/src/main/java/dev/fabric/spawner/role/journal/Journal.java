package dev.fabric.spawner.role.journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A role's journal file in the member's data directory (the queue's {@code queue.journal}, the
 * pubsub's {@code pubsub.journal}): replayed when opened, appended to with every write forced to
 * the disk before the caller answers anyone, and rewritten whole (to a temporary file moved over
 * it) when compacted. What its records are is the {@link JournalCodec}'s.
 *
 * @param <R> the role's record type
 */
public final class Journal<R> implements Closeable {

    /** Where a compaction writes before the atomic move, beside the journal; a leftover one is from a crash mid-compaction. */
    public static final String COMPACTING_SUFFIX = ".compacting";

    private static final Logger log = LoggerFactory.getLogger(Journal.class);

    private final JournalCodec<R> codec;
    /** "queue journal FILE", the start of every log line about it. */
    private final String name;
    private final Path directory;
    private final Path file;
    private FileChannel channel;
    private long size;
    /** Why the journal takes no more writes, or null while it does. */
    private String broken;
    private boolean closed;

    private Journal(JournalCodec<R> codec, Path directory, Path file, FileChannel channel, long size) {
        this.codec = codec;
        this.name = codec.owner() + " journal " + file;
        this.directory = directory;
        this.file = file;
        this.channel = channel;
        this.size = size;
    }

    /**
     * Opens the journal {@code fileName} in {@code directory}, creating an empty one unless
     * {@code mustExist}, and hands every record to {@code replay}. A torn last record is cut off (and logged).
     *
     * @throws NoSuchFileException     when {@code mustExist} and there is no journal
     * @throws JournalCorruptException when the file is not a journal or is damaged before its end
     * @throws IOException             when the file cannot be read or written
     */
    public static <R> Journal<R> open(JournalCodec<R> codec, Path directory, String fileName, boolean mustExist,
                                      JournalDecoder.Sink<? super R> replay) throws IOException, JournalCorruptException {
        Path file = directory.resolve(fileName);
        Path temp = directory.resolve(fileName + COMPACTING_SUFFIX);
        if (Files.notExists(file)) {
            if (mustExist) {
                throw new NoSuchFileException(file.toString(), null, "no " + codec.owner() + " journal");
            }
            Files.createDirectories(directory);
            // Created whole or not at all, so a crash here never leaves a journal without its header.
            writeWhole(codec, temp, List.of());
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(directory);
            log.info("{} journal {}: created", codec.owner(), file);
        }
        if (Files.deleteIfExists(temp)) {
            log.info("{} journal {}: removed {}, left by a compaction a crash interrupted; the journal itself is whole", codec.owner(),
                    file, temp);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long size = channel.size();
            // The stream is not closed: closing it would close the channel the journal goes on with.
            JournalDecoder.Decoded decoded = JournalDecoder.decode(codec, new BufferedInputStream(Channels.newInputStream(channel), 1 << 16),
                    size, replay);
            if (decoded.torn()) {
                log.warn("{} journal {}: dropped a torn last record ({} bytes at byte {}: {}); a crash cut it short before it "
                        + "was forced, so no client was told it was stored", codec.owner(), file, decoded.tornBytes(), decoded.validLength(),
                        decoded.tornReason());
                channel.truncate(decoded.validLength());
                channel.force(true);
            }
            channel.position(decoded.validLength());
            return new Journal<>(codec, directory, file, channel, decoded.validLength());
        } catch (IOException | JournalCorruptException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /** The journal's length in bytes. */
    public long size() {
        return size;
    }

    /** Appends one record and forces it to the disk; on failure the journal is as it was before. */
    public void append(R record) throws IOException {
        write(JournalEncoder.encode(codec, record));
    }

    /**
     * Appends several records with one write and one force: all of them are durable when it returns;
     * on failure the journal is as it was before (a crash mid-write leaves a torn tail, cut off on replay).
     */
    public void appendAll(List<? extends R> records) throws IOException {
        write(JournalEncoder.encode(codec, records));
    }

    private void write(ByteBuffer frame) throws IOException {
        writable();
        long before = size;
        try {
            while (frame.hasRemaining()) {
                channel.write(frame);
            }
            channel.force(true);
            size = before + frame.limit();
        } catch (IOException e) {
            undo(before, e);
            throw e;
        }
    }

    /** Replaces the journal with exactly {@code records}, atomically. */
    public void rewrite(List<? extends R> records) throws IOException {
        writable();
        Path temp = directory.resolve(file.getFileName() + COMPACTING_SUFFIX);
        long newSize = writeWhole(codec, temp, records);
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // An atomic move that failed moved nothing: the journal in use is still the one in place.
            deleteQuietly(temp, e);
            throw e;
        }
        // The old channel now writes into an unlinked file: it must never be used again.
        FileChannel old = channel;
        channel = null;
        try {
            old.close();
        } catch (IOException e) {
            log.debug("{}: closing the replaced file failed: {}", name, e.toString());
        }
        try {
            forceDirectory(directory);
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            channel.position(newSize);
            size = newSize;
        } catch (IOException e) {
            broken = "it could not be reopened after compaction (" + e.getMessage() + ")";
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        if (channel != null) {
            channel.close();
        }
    }

    private void writable() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (broken != null) {
            throw new IOException("the " + name + " takes no more writes: " + broken + "; restart the member");
        }
        if (!channel.isOpen()) {
            // An interrupted writer closes a FileChannel; the file itself is fine, so carry on with a new one.
            reopenAt(size);
        }
    }

    /** After a failed write: cut off whatever part of the frame reached the file. */
    private void undo(long before, IOException cause) {
        if (!channel.isOpen()) {
            // Closed by an interrupt: the interrupted thread cannot force anything now; the next write
            // reopens the file and cuts it back to its last good length (and a crash before that leaves a torn tail).
            return;
        }
        try {
            channel.truncate(before);
            channel.position(before);
            channel.force(true);
        } catch (IOException e) {
            cause.addSuppressed(e);
            broken = "a failed write could not be undone (" + e.getMessage() + ")";
            log.error("{}: {}", name, broken, cause);
        }
    }

    private void reopenAt(long length) throws IOException {
        FileChannel reopened = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            reopened.truncate(length);
            reopened.position(length);
            reopened.force(true);
        } catch (IOException e) {
            // Never keep a channel whose position is not the end of the good records.
            reopened.close();
            throw e;
        }
        channel = reopened;
    }

    /** Writes a complete journal to {@code target} and forces it; returns its length. */
    private static <R> long writeWhole(JournalCodec<R> codec, Path target, List<? extends R> records) throws IOException {
        long length = 0;
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            length += writeFully(out, ByteBuffer.wrap(JournalEncoder.header(codec)));
            for (R record : records) {
                length += writeFully(out, JournalEncoder.encode(codec, record));
            }
            out.force(true);
        } catch (IOException e) {
            deleteQuietly(target, e);
            throw e;
        }
        return length;
    }

    /** A rename lives in the directory: force it too, or a crash could bring back the old file. */
    private static void forceDirectory(Path directory) throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    private static void deleteQuietly(Path path, IOException cause) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    private static int writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        int written = buffer.remaining();
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
        return written;
    }
}
