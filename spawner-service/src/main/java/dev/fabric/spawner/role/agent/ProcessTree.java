package dev.fabric.spawner.role.agent;

import dev.fabric.posix.Downcall;
import dev.fabric.posix.PosixException;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Kills a task's process and every process it started. Killing the root first would hand its
 * children to init, out of reach; killing a snapshot of the tree would miss what they fork
 * meanwhile. So the tree is frozen first: SIGSTOP to the root, then to every descendant found, again
 * until a pass finds no new one (a stopped process cannot fork), and only then SIGKILL to all.
 *
 * <p>A root that leads its own process group (the agent starts each task in a session of its own,
 * {@link TaskRunner}) has its whole group stopped first and killed last as well: that reaches a
 * process that left the tree (double-forked, its parent gone, so init adopted it) but stayed in the
 * group. A process that also left the group and session ({@code setsid}, as a daemon does) is not followed.
 */
final class ProcessTree {

    private static final int SIGKILL = 9;
    private static final int SIGSTOP = 19;
    private static final int ESRCH = 3;
    private static final int MAX_PASSES = 50;
    private static final Downcall KILL = Downcall.capturingErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private ProcessTree() {
    }

    /** Freezes and kills {@code root} and its descendants; returns how many processes were killed. */
    static int kill(ProcessHandle root) {
        boolean group = leadsItsGroup(root.pid());
        if (group) {
            signalGroup(root.pid(), SIGSTOP);
        }
        Map<Long, ProcessHandle> frozen = new LinkedHashMap<>();
        freeze(root, frozen);
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            int before = frozen.size();
            root.descendants().forEach(process -> freeze(process, frozen));
            if (frozen.size() == before) {
                break;
            }
        }
        if (group) {
            signalGroup(root.pid(), SIGKILL);
        }
        frozen.values().forEach(process -> signal(process, SIGKILL));
        return frozen.size();
    }

    /** Whether the process is the leader of its process group ({@code /proc/PID/stat}'s pgrp is its pid); false when it cannot be told. */
    static boolean leadsItsGroup(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // "pid (comm) state ppid pgrp ...": the command may hold spaces and parentheses, so read after the last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[2]) == pid;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void signalGroup(long pgid, int signal) {
        try {
            int group = -Math.toIntExact(pgid);
            KILL.call((handle, state) -> (int) handle.invokeExact(state, group, signal));
        } catch (PosixException e) {
            // ESRCH: the group is empty already; EPERM: not ours, and the tree is signalled one by one anyway.
        }
    }

    /**
     * How far a process's start time ({@link ProcessHandle.Info#startInstant}, whole seconds of boot time plus
     * clock ticks) may lie from the time the agent took as it started it: a pid reused that soon by a
     * process that still runs would need the system to go through every pid within that time.
     */
    static final Duration START_TOLERANCE = Duration.ofSeconds(2);

    /** The process started under {@code pid} within {@link #START_TOLERANCE} of {@code startedAt}, if it still runs. */
    static Optional<ProcessHandle> find(long pid, Instant startedAt) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(process -> process.info().startInstant()
                        .map(start -> Duration.between(startedAt, start).abs().compareTo(START_TOLERANCE) <= 0).orElse(false));
    }

    private static void freeze(ProcessHandle process, Map<Long, ProcessHandle> frozen) {
        if (frozen.putIfAbsent(process.pid(), process) == null) {
            signal(process, SIGSTOP);
        }
    }

    private static void signal(ProcessHandle process, int signal) {
        try {
            int pid = Math.toIntExact(process.pid());
            KILL.call((handle, state) -> (int) handle.invokeExact(state, pid, signal));
        } catch (PosixException e) {
            if (e.errno() != ESRCH) {
                // Not ours to signal (EPERM): the best left is the JDK's own kill.
                process.destroyForcibly();
            }
        }
    }
}
