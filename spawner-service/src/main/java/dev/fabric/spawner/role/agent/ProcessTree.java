package dev.fabric.spawner.role.agent;

import dev.fabric.posix.Downcall;
import dev.fabric.posix.PosixException;

import java.lang.foreign.FunctionDescriptor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Kills a task's process and every process it started. Killing the root first would hand its
 * children to init, out of reach; killing a snapshot of the tree would miss what they fork
 * meanwhile. So the tree is frozen first: SIGSTOP to the root, then to every descendant found, again
 * until a pass finds no new one (a stopped process cannot fork), and only then SIGKILL to all.
 * A process that left the tree before (a daemon that double-forked) is not followed.
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
        Map<Long, ProcessHandle> frozen = new LinkedHashMap<>();
        freeze(root, frozen);
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            int before = frozen.size();
            root.descendants().forEach(process -> freeze(process, frozen));
            if (frozen.size() == before) {
                break;
            }
        }
        frozen.values().forEach(process -> signal(process, SIGKILL));
        return frozen.size();
    }

    /** The process that was started at {@code startedAt} (as {@link ProcessHandle.Info#startInstant} says) under {@code pid}, if it still runs. */
    static Optional<ProcessHandle> find(long pid, java.time.Instant startedAt) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(process -> process.info().startInstant().map(startedAt::equals).orElse(false));
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
