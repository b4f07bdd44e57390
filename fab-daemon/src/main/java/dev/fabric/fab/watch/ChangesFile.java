package dev.fabric.fab.watch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * faba's {@code changes} file: entries ({@code M}/{@code C}/{@code D} and an absolute path, or
 * {@code *} and a reason), each NUL-terminated, after a header {@code B <offset>} NUL. Offsets count
 * the entries' bytes since the watcher started, so they survive {@link #drop}: the header says where
 * the first entry still in the file starts. fabd reads from the offset it stopped at
 * ({@link #read}); after a command, faba drops what fabd has read (it read at least what was there
 * when faba relayed the command's START), so the file holds what changed since the last command
 * instead of growing for the daemons' whole life. When fabd stopped before the file's first entry (a
 * command it never read changes for), {@link Read#gap} says so and fabd looks at every file again:
 * the price of a dropped entry is a slower build, never a missed change.
 * <p>
 * One writer (the watcher's thread and faba's drop, under this object's lock); the file is replaced by
 * rename, so a reader sees the old file or the new one, each whole.
 */
public final class ChangesFile {
    private final Path file;
    /** The offset of the first entry in the file. */
    private long base;
    /** Bytes of entries in the file. */
    private long length;
    private boolean broken;

    /** Starts an empty file (the watcher's start: fabd, seeing a new faba, looks at everything once). */
    public ChangesFile(Path file) throws IOException {
        this.file = file;
        Files.write(file, header(0));
    }

    public Path path() {
        return file;
    }

    /** The offset after the last entry appended. */
    public synchronized long end() {
        return base + length;
    }

    public synchronized void append(String kind, String path) {
        if (broken) {
            return;
        }
        byte[] entry = (kind + " " + path + "\0").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(entry);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            length += entry.length;
        } catch (IOException e) {
            fail();
        }
    }

    /**
     * Removes the entries before {@code offset}, which fabd has read. Entries after it stay, under the
     * same offsets.
     */
    public synchronized void drop(long offset) {
        if (broken || offset <= base) {
            return;
        }
        try {
            byte[] all = Files.readAllBytes(file);
            int header = headerLength(all);
            int keepFrom = (int) Math.min(all.length, header + (offset - base));
            long newBase = base + (keepFrom - header);
            byte[] rest = Arrays.copyOfRange(all, keepFrom, all.length);
            byte[] head = header(newBase);
            byte[] out = new byte[head.length + rest.length];
            System.arraycopy(head, 0, out, 0, head.length);
            System.arraycopy(rest, 0, out, head.length, rest.length);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, out);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            base = newBase;
            length = rest.length;
        } catch (IOException e) {
            // The file keeps everything: it only grows.
        }
    }

    /** Without the file fabd cannot trust anything: it finds it missing and verifies every file. */
    private void fail() {
        broken = true;
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // Nothing more to do.
        }
    }

    /**
     * What a reader that stopped at offset {@code from} reads now: the complete entries after it (a
     * partly written last one waits), the offset to start from next time, and whether entries it never
     * read were dropped.
     */
    public record Read(List<String> entries, long next, boolean gap) {
    }

    /** Reads a changes file's content from offset {@code from}. */
    public static Read read(byte[] all, long from) {
        int header = headerLength(all);
        long base = header == 0 ? 0 : Long.parseLong(new String(all, 2, header - 3, StandardCharsets.US_ASCII));
        boolean gap = from < base || header + (from - base) > all.length;
        long start = gap ? base : from;
        int pos = (int) (header + (start - base));
        int last = pos - 1;
        for (int i = all.length - 1; i >= pos; i--) {
            if (all[i] == 0) {
                last = i;
                break;
            }
        }
        List<String> entries = new ArrayList<>();
        int at = pos;
        for (int i = pos; i <= last; i++) {
            if (all[i] == 0) {
                if (i > at) {
                    entries.add(new String(all, at, i - at, StandardCharsets.UTF_8));
                }
                at = i + 1;
            }
        }
        return new Read(entries, base + (last + 1 - header), gap);
    }

    private static byte[] header(long base) {
        return ("B " + base + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    /** The header's length with its NUL, or 0 for a file without one (an earlier faba's). */
    private static int headerLength(byte[] all) {
        if (all.length < 3 || all[0] != 'B' || all[1] != ' ') {
            return 0;
        }
        for (int i = 2; i < all.length; i++) {
            if (all[i] == 0) {
                return i + 1;
            }
            if (all[i] < '0' || all[i] > '9') {
                return 0;
            }
        }
        return 0;
    }
}
