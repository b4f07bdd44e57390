package dev.fabric.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A process {@link Spawn} started: its pid, its exit status when it ends, and signals that cannot
 * reach another process that got its pid.
 * <p>
 * A platform thread of a shared pool waits for it without reaping it ({@code waitid} with
 * {@code WNOWAIT}), then reaps it ({@code waitpid}) under the lock that {@link #signal} and
 * {@link #whileUnreaped} hold: until then the pid stays the child's (a zombie keeps it), so a signal
 * sent under that lock cannot hit a process that reused the pid. The pool's threads are reused, so
 * starting many short processes in a row does not start a thread each.
 */
@SuppressWarnings("restricted") // native access is the point of this class
public final class Child {

    private static final int P_PID = 1;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x01000000;
    private static final long SIGINFO = 128;
    private static final int ESRCH = 3;

    private static final Downcall WAITID = Downcall.capturingErrno("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_INT));
    private static final Downcall WAITPID = Downcall.capturingErrno("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT));
    private static final Downcall KILL = Downcall.capturingErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final ExecutorService WAITERS = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("spawn-waiter-", 0)
            .stackSize(256 * 1024).factory());

    private final int pid;
    /** The JDK's handle, once taken; null before. */
    private Optional<ProcessHandle> handle;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final ReentrantLock lock = new ReentrantLock();
    private boolean reaped;

    Child(int pid) {
        this.pid = pid;
        WAITERS.execute(this::waitForExit);
    }

    public long pid() {
        return pid;
    }

    /**
     * The JDK's handle of the child (its descendants, its start time), taken when first asked while
     * the child is not reaped, so its pid is surely the child's (a zombie's too: it keeps its /proc
     * entry until reaped); empty when first asked after the child was reaped. Not taken at the start:
     * that reads {@code /proc}, which most short children never need.
     */
    public Optional<ProcessHandle> handle() {
        lock.lock();
        try {
            if (handle == null && !reaped) {
                handle = ProcessHandle.of(pid);
            }
            return handle == null ? Optional.empty() : handle;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Completes when the child has ended and been reaped, with its exit status as a shell gives it:
     * the exit code (0 to 255), or 128 plus the number of the signal that ended it.
     */
    public CompletableFuture<Integer> exitStatus() {
        return exit.copy();
    }

    /**
     * Runs {@code action} (as a signal to the child's tree) while the child is not reaped, so its pid
     * is still its own; returns false without running it when the child was reaped already.
     */
    public boolean whileUnreaped(Runnable action) {
        lock.lock();
        try {
            if (reaped) {
                return false;
            }
            action.run();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Sends {@code signal} to the child unless it was reaped; false when it was (or it is gone). */
    public boolean signal(int signal) {
        return send(pid, signal);
    }

    /** Sends {@code signal} to the child's process group (it leads one when spawned in a new session) unless the child was reaped. */
    public boolean signalGroup(int signal) {
        return send(-pid, signal);
    }

    private boolean send(int target, int signal) {
        boolean[] sent = {false};
        whileUnreaped(() -> {
            try {
                KILL.call("kill " + target, (h, state) -> (int) h.invokeExact(state, target, signal));
                sent[0] = true;
            } catch (PosixException e) {
                if (e.errno() != ESRCH) {
                    throw e;
                }
            }
        });
        return sent[0];
    }

    private void waitForExit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(SIGINFO, 8);
            WAITID.callRetryingInterrupted("waitid for " + pid, (h, state) -> (int) h.invokeExact(state, P_PID, pid, info,
                    WEXITED | WNOWAIT));
            MemorySegment status = arena.allocate(JAVA_INT);
            lock.lock();
            try {
                WAITPID.callRetryingInterrupted("waitpid for " + pid, (h, state) -> (int) h.invokeExact(state, pid, status, 0));
                reaped = true;
            } finally {
                lock.unlock();
            }
            exit.complete(exitStatus(status.get(JAVA_INT, 0)));
        } catch (Throwable e) {
            exit.completeExceptionally(e);
        }
    }

    /** A {@code waitpid} status as a shell reports it. */
    static int exitStatus(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }
}
