package dev.fabric.spawner.role.agent;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Removes the sandboxes of finished tasks once they are older than the agent's
 * {@code sandbox-retention} (docs/roles.md, "agent"): a sandbox's age counts from the last change
 * to it or to the files directly in it (its output files are written until the task ends), and a
 * task the agent holds (waiting for a slot or running) keeps its sandbox whatever its age. Symbolic
 * links are removed, never followed.
 */
final class SandboxSweeper {

    private static final Logger log = LoggerFactory.getLogger(SandboxSweeper.class);

    private final Path root;
    private final Duration retention;

    SandboxSweeper(Path root, Duration retention) {
        this.root = root;
        this.retention = retention;
    }

    /** How long to wait between sweeps: often enough for the retention, never busier than once a second. */
    Duration interval() {
        Duration half = retention.dividedBy(2);
        return half.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
                : half.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : half;
    }

    /** Removes every sandbox under the root older than the retention at {@code now}, but those of {@code held} tasks; answers how many. */
    int sweep(Instant now, Set<String> held) {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        Instant cutoff = now.minus(retention);
        int removed = 0;
        try (DirectoryStream<Path> sandboxes = Files.newDirectoryStream(root)) {
            for (Path sandbox : sandboxes) {
                String task = sandbox.getFileName().toString();
                if (held.contains(task) || !Files.isDirectory(sandbox, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    if (lastChange(sandbox).isBefore(cutoff)) {
                        delete(sandbox);
                        removed++;
                    }
                } catch (IOException | UncheckedIOException e) {
                    log.warn("sandbox {} of task {} could not be removed ({}); trying again at the next sweep", sandbox, task, e.toString());
                }
            }
        } catch (IOException e) {
            log.warn("the sandboxes under {} could not be listed ({}); trying again at the next sweep", root, e.toString());
        }
        return removed;
    }

    private static Instant lastChange(Path sandbox) throws IOException {
        Instant last = Files.getLastModifiedTime(sandbox, LinkOption.NOFOLLOW_LINKS).toInstant();
        try (Stream<Path> files = Files.list(sandbox)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Instant changed = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant();
                if (changed.isAfter(last)) {
                    last = changed;
                }
            }
        }
        return last;
    }

    private static void delete(Path sandbox) throws IOException {
        // Files.walk does not follow symbolic links: a link out of the sandbox is removed, not what it points to.
        try (Stream<Path> tree = Files.walk(sandbox)) {
            for (Path path : (Iterable<Path>) tree.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
