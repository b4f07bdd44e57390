package dev.fabric.cli.commands.task;

import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskState;

import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * What {@code fabric task wait} shows while tasks end: on a terminal a bar redrawn in place,
 * otherwise a plain line at most every second (and one at the end), each with the tasks done,
 * failed (canceled included) and in all, the rate at which tasks ended since the wait began (those that
 * had ended before it count as ended, not toward the rate) and the time left at that rate.
 */
final class Progress {

    static final int WIDTH = 30;

    private final PrintWriter out;
    private final boolean terminal;
    private final Clock clock;
    private final long total;
    private final Instant start;
    /** Erases from the cursor to the end of the line: a shorter line leaves nothing of a longer one behind. */
    static final String ERASE_TO_END = "\u001b[K";

    private long done;
    private long failed;
    /** Tasks that ended since the wait began: the rate's count. */
    private long endedWhileWaiting;
    private Instant lastLine = Instant.EPOCH;

    Progress(PrintWriter out, boolean terminal, Clock clock, long total) {
        this.out = out;
        this.terminal = terminal;
        this.clock = clock;
        this.total = total;
        this.start = clock.instant();
    }

    /** Whether standard output is a terminal a bar can be drawn on (not a pipe, not a file). */
    static boolean onTerminal() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    /** A task ended. */
    synchronized void ended(PilotWire.Task task) {
        if (task.state() == TaskState.DONE) {
            done++;
        } else {
            failed++;
        }
        if (task.finishedAt() == null || !task.finishedAt().isBefore(start)) {
            endedWhileWaiting++;
        }
        Instant now = clock.instant();
        if (terminal) {
            out.print("\r" + line(now) + ERASE_TO_END);
            out.flush();
        } else if (Duration.between(lastLine, now).toMillis() >= 1000 || done + failed == total) {
            out.println(line(now));
            lastLine = now;
        }
    }

    /** The end: the bar's line is closed with a line break. */
    synchronized void finish() {
        if (terminal) {
            out.println();
        }
        out.flush();
    }

    String line(Instant now) {
        long ended = done + failed;
        double seconds = Math.max(0.001, Duration.between(start, now).toNanos() / 1e9);
        double rate = endedWhileWaiting / seconds;
        // No task ended yet while waiting: no rate to tell the time left by.
        String left = ended == total ? "0s" : rate <= 0 ? "?" : Math.round((total - ended) / rate) + "s";
        String counts = String.format(Locale.ROOT, "%d/%d ended: done %d, failed %d, %.1f tasks/s, %s left",
                ended, total, done, failed, rate, left);
        if (!terminal) {
            return counts;
        }
        int filled = total == 0 ? WIDTH : (int) (WIDTH * ended / total);
        return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + counts;
    }

    synchronized long done() {
        return done;
    }

    synchronized long failed() {
        return failed;
    }
}
