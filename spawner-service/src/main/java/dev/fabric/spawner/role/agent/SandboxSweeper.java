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
 * links are removed, never followed. A sweep answers when the next one can first find a sandbox to
 * remove (the oldest one kept, aged the retention): a sandbox made after it is younger still, so the
 * agent does not read every sandbox's times once a minute while none can be due (a node keeps a
 * day's sandboxes by default: tens of thousands on a busy one).
 */
final class SandboxSweeper {

    private static final Logger log = LoggerFactory.getLogger(SandboxSweeper.class);

    private final Path root;
    private final Duration retention;

    SandboxSweeper(Path root, Duration retention) {
        this.root = root;
        this.retention = retention;
    }

    /** The least time between two sweeps: often enough for the retention, never busier than once a second. */
    Duration interval() {
        Duration half = retention.dividedBy(2);
        return half.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
                : half.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : half;
    }

    /**
     * What a sweep did: how many sandboxes it removed, and the soonest a sandbox can be past the
     * retention (the oldest one kept, aged the retention; {@code now} when one is already, held or
     * not removable; {@code now} plus the retention when none is kept).
     */
    record Sweep(int removed, Instant due) {}

    /** How long to wait after {@code sweep}, made at {@code now}: until a sandbox can be due, at least the {@link #interval}. */
    Duration untilNext(Sweep sweep, Instant now) {
        Duration untilDue = Duration.between(now, sweep.due());
        return untilDue.compareTo(interval()) > 0 ? untilDue : interval();
    }

    /** Removes every sandbox under the root older than the retention at {@code now}, but those of {@code held} tasks. */
    Sweep sweep(Instant now, Set<String> held) {
        Instant due = now.plus(retention);
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return new Sweep(0, due);
        }
        Instant cutoff = now.minus(retention);
        int removed = 0;
        try (DirectoryStream<Path> sandboxes = Files.newDirectoryStream(root)) {
            for (Path sandbox : sandboxes) {
                String task = sandbox.getFileName().toString();
                if (!Files.isDirectory(sandbox, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    Instant changed = lastChange(sandbox);
                    if (changed.isBefore(cutoff) && !held.contains(task)) {
                        delete(sandbox);
                        removed++;
                    } else if (changed.plus(retention).isBefore(due)) {
                        due = changed.plus(retention);
                    }
                } catch (IOException | UncheckedIOException e) {
                    log.warn("sandbox {} of task {} could not be removed ({}); trying again at the next sweep", sandbox, task, e.toString());
                    due = now;
                }
            }
        } catch (IOException e) {
            log.warn("the sandboxes under {} could not be listed ({}); trying again at the next sweep", root, e.toString());
            due = now;
        }
        return new Sweep(removed, due.isBefore(now) ? now : due);
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
