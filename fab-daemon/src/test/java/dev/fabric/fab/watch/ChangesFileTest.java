package dev.fabric.fab.watch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * faba's {@code changes} file: the watcher appends, fabd reads from where it stopped, and faba drops
 * what fabd has read, so the file holds only what changed since the last command. Dropping must never
 * lose an entry fabd has not read, and when it would (a command fabd never read changes for), fabd
 * must learn it and look at everything.
 */
class ChangesFileTest {
    @TempDir
    Path dir;

    private ChangesFile.Read read(Path file, long from) throws Exception {
        return ChangesFile.read(Files.readAllBytes(file), from);
    }

    @Test
    void entriesAreReadOnceInOrder() throws Exception {
        ChangesFile changes = new ChangesFile(dir.resolve("changes"));
        changes.append("M", "/p/a.c");
        changes.append("C", "/p/b.c");
        ChangesFile.Read first = read(changes.path(), 0);
        assertThat(first.entries()).containsExactly("M /p/a.c", "C /p/b.c");
        assertThat(first.gap()).isFalse();
        assertThat(first.next()).isEqualTo(changes.end());
        changes.append("D", "/p/a.c");
        ChangesFile.Read second = read(changes.path(), first.next());
        assertThat(second.entries()).containsExactly("D /p/a.c");
        assertThat(read(changes.path(), second.next()).entries()).isEmpty();
    }

    @Test
    void droppingWhatWasReadKeepsTheRestAndTheFileSmall() throws Exception {
        ChangesFile changes = new ChangesFile(dir.resolve("changes"));
        for (int i = 0; i < 1000; i++) {
            changes.append("M", "/p/build/f" + i + ".o");
        }
        ChangesFile.Read read = read(changes.path(), 0);
        long consumed = changes.end();
        changes.append("M", "/p/src/late.c");
        changes.drop(consumed);
        assertThat(Files.size(changes.path())).isLessThan(100);
        ChangesFile.Read rest = read(changes.path(), read.next());
        assertThat(rest.gap()).isFalse();
        assertThat(rest.entries()).containsExactly("M /p/src/late.c");
        // Dropping again, or less, changes nothing.
        changes.drop(consumed);
        changes.drop(0);
        assertThat(read(changes.path(), read.next()).entries()).containsExactly("M /p/src/late.c");
    }

    @Test
    void droppingWhatWasNotReadIsAGapTheReaderSees() throws Exception {
        ChangesFile changes = new ChangesFile(dir.resolve("changes"));
        changes.append("M", "/p/a.c");
        changes.append("M", "/p/b.c");
        changes.drop(changes.end());
        changes.append("M", "/p/c.c");
        ChangesFile.Read read = read(changes.path(), 0);
        assertThat(read.gap()).isTrue();
        assertThat(read.entries()).containsExactly("M /p/c.c");
    }

    @Test
    void aFileWithoutAHeaderIsReadFromItsStart() throws Exception {
        // As a faba of an earlier version wrote it.
        Path file = dir.resolve("changes");
        Files.write(file, "M /p/a.c\0C /p/b.c\0".getBytes(StandardCharsets.UTF_8));
        ChangesFile.Read read = read(file, 0);
        assertThat(read.entries()).containsExactly("M /p/a.c", "C /p/b.c");
        assertThat(read.gap()).isFalse();
        assertThat(read(file, read.next()).entries()).isEmpty();
    }

    @Test
    void aPartlyWrittenEntryWaitsForItsEnd() throws Exception {
        Path file = dir.resolve("changes");
        Files.write(file, "B 0\0M /p/a.c\0M /p/b".getBytes(StandardCharsets.UTF_8));
        ChangesFile.Read read = read(file, 0);
        assertThat(read.entries()).containsExactly("M /p/a.c");
        Files.write(file, "B 0\0M /p/a.c\0M /p/b.c\0".getBytes(StandardCharsets.UTF_8));
        assertThat(read(file, read.next()).entries()).containsExactly("M /p/b.c");
    }

    @Test
    void aReaderAheadOfAShorterFileLooksAtEverything() throws Exception {
        // Not a file this reader read before (replaced behind faba's back): nothing it says can be trusted.
        Path file = dir.resolve("changes");
        Files.write(file, "B 0\0M /p/a.c\0".getBytes(StandardCharsets.UTF_8));
        ChangesFile.Read read = read(file, 500);
        assertThat(read.gap()).isTrue();
        assertThat(read.entries()).containsExactly("M /p/a.c");
    }

    @Test
    void noEntryIsLostWhileTheWatcherAppendsAndFabaDropsWhatFabdRead() throws Exception {
        ChangesFile changes = new ChangesFile(dir.resolve("changes"));
        int total = 5_000;
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread watcher = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < total; i++) {
                changes.append("M", "/p/f" + i);
            }
            writing.set(false);
        });
        List<String> seen = new ArrayList<>();
        long next = 0;
        while (writing.get() || seen.size() < total) {
            // A command: fabd reads from where it stopped, then faba drops what fabd read.
            ChangesFile.Read read = read(changes.path(), next);
            assertThat(read.gap()).as("a gap after %d entries", seen.size()).isFalse();
            seen.addAll(read.entries());
            next = read.next();
            changes.drop(next);
            if (!writing.get() && read.entries().isEmpty()) {
                break;
            }
        }
        watcher.join();
        seen.addAll(read(changes.path(), next).entries());
        assertThat(seen).hasSize(total);
        for (int i = 0; i < total; i++) {
            assertThat(seen.get(i)).isEqualTo("M /p/f" + i);
        }
    }
}
