package dev.fabric.fab.posix;

import dev.fabric.posix.PosixException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Kills a command and everything it started, with no window for a fork to escape.
 * <p>
 * Listing a process's descendants and then killing them races with the process itself: a shell that
 * forks between the listing and its own death leaves a child that nobody kills, re-parented away from
 * the tree (a {@code sleep 30} that then holds the command's output pipe for 30 s). Commands stay in
 * their caller's process group (fabw kills that group when faba dies), so killing a group of their own
 * is not an option. Instead the tree is frozen first: every member gets SIGSTOP and is waited for
 * until it is stopped (a stopped process forks no more), the tree is listed again, and only when a
 * listing finds nobody new does every member get SIGKILL.
 */
public final class ProcessTree {
    private static final int SIGKILL = 9;
    private static final int SIGSTOP = 19;
    /**
     * How long the processes found in one round may take to stop: a process in uninterruptible sleep
     * stops (or dies) only when its system call ends, and the kill goes on without it then.
     */
    private static final long STOP_WAIT_NANOS = 2_000_000_000L;

    private ProcessTree() {
    }

    /** Stops {@code root} and its descendants, then kills them all; processes already gone are skipped. */
    public static void kill(ProcessHandle root) {
        Set<ProcessHandle> frozen = new LinkedHashSet<>();
        List<ProcessHandle> found = List.of(root);
        while (!found.isEmpty()) {
            for (ProcessHandle p : found) {
                signal(p, SIGSTOP);
                frozen.add(p);
            }
            long deadline = System.nanoTime() + STOP_WAIT_NANOS;
            for (ProcessHandle p : found) {
                awaitStopped(p, deadline);
            }
            // One look at the process table per round (children() per process would scan it each time).
            found = root.descendants().filter(p -> !frozen.contains(p)).toList();
        }
        frozen.forEach(p -> signal(p, SIGKILL));
    }

    private static void signal(ProcessHandle p, int signal) {
        try {
            Libc.kill((int) p.pid(), signal);
        } catch (PosixException gone) {
            // ESRCH: it ended on its own; there is nothing left to stop or kill.
        }
    }

    /** Waits until /proc says the process is stopped (T), a zombie (Z) or gone, or until the deadline. */
    private static void awaitStopped(ProcessHandle p, long deadline) {
        while (System.nanoTime() < deadline) {
            char state = state(p.pid());
            if (state == 'T' || state == 't' || state == 'Z' || state == 'X' || state == 0) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
    }

    /** The state letter of /proc/PID/stat, or 0 when the process is gone. */
    private static char state(long pid) {
        try {
            return stateLetter(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException gone) {
            return 0;
        }
    }

    /** The state letter of a /proc/PID/stat line: after the command name, which may hold spaces and parentheses. */
    static char stateLetter(String stat) {
        int end = stat.lastIndexOf(')');
        return end < 0 || end + 2 >= stat.length() ? 0 : stat.charAt(end + 2);
    }
}
