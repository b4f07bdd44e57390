package dev.fabric.fab.posix;

import dev.fabric.posix.Downcall;
import dev.fabric.posix.PosixException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The process and credential calls fab's daemons need and Java lacks, bound to the C library through
 * the Foreign Function &amp; Memory API (the JVM runs with {@code --enable-native-access=ALL-UNNAMED}).
 * Binding, errno capture and the one {@link PosixException} come from {@code fabric-posix}; this
 * class is fab's list of calls.
 * <p>
 * The credential calls are glibc's wrappers, not raw system calls, on purpose: on Linux a
 * {@code setresuid} system call changes only the calling thread, while glibc's wrapper signals every
 * thread of the process to make the same change, so a JVM's threads never disagree about who they are.
 * The one exception is {@link #killAsEffectiveUid}: faba's instant as fabsys to signal fabd is the raw
 * system call on the calling thread alone, so no other thread (writing a command's results, creating a
 * target's directory) ever does anything with fabsys's rights.
 */
public final class Libc {
    public static final int EPERM = 1;
    public static final int ESRCH = 3;
    public static final int PR_SET_PDEATHSIG = 1;
    public static final int PR_SET_DUMPABLE = 4;

    // Each handle is made the first time it is used (Downcall is lazy): making one costs milliseconds
    // of class generation, and the client, which only needs kill and getpid, starts faster.
    private static final Downcall GETPID = Downcall.of("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETPPID = Downcall.of("getppid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETUID = Downcall.of("getuid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETEUID = Downcall.of("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETGID = Downcall.of("getgid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall KILL = Downcall.capturingErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall SETSID = Downcall.capturingErrno("setsid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall SETPGID = Downcall.capturingErrno("setpgid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall GETRESUID = Downcall.capturingErrno("getresuid",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final Downcall SETRESUID = Downcall.capturingErrno("setresuid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall SETRESGID = Downcall.capturingErrno("setresgid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall SETGROUPS = Downcall.capturingErrno("setgroups", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
    /** syscall(2), for the one per-thread credential change; the system call number and ids as longs. */
    private static final Downcall SYSCALL4 = Downcall.capturingErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final Downcall CHMOD = Downcall.capturingErrno("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final Downcall PRCTL = Downcall.capturingErrno("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));

    private Libc() {
    }

    public static int getpid() {
        return GETPID.value(h -> (int) h.invokeExact());
    }

    public static int getppid() {
        return GETPPID.value(h -> (int) h.invokeExact());
    }

    public static int getuid() {
        return GETUID.value(h -> (int) h.invokeExact());
    }

    public static int geteuid() {
        return GETEUID.value(h -> (int) h.invokeExact());
    }

    public static int getgid() {
        return GETGID.value(h -> (int) h.invokeExact());
    }

    /** kill(2); throws with the errno (ESRCH: no such process, EPERM: the credentials do not allow it). */
    public static void kill(int pid, int signal) {
        KILL.call((h, state) -> (int) h.invokeExact(state, pid, signal));
    }

    /**
     * Whether a process exists, by {@code kill(pid, 0)}: EPERM still means it exists (it belongs to
     * someone we may not signal), so this works across the credential model.
     */
    public static boolean alive(int pid) {
        if (pid <= 0) {
            return false;
        }
        try {
            kill(pid, 0);
            return true;
        } catch (PosixException e) {
            return e.errno() == EPERM;
        }
    }

    public static void setsid() {
        SETSID.call((h, state) -> (int) h.invokeExact(state));
    }

    public static void setpgid(int pid, int pgid) {
        SETPGID.call((h, state) -> (int) h.invokeExact(state, pid, pgid));
    }

    /** Real, effective and saved user ids. */
    public static int[] getresuid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocate(JAVA_INT, 3);
            GETRESUID.call((h, state) -> (int) h.invokeExact(state, ids, ids.asSlice(4), ids.asSlice(8)));
            return new int[] {ids.getAtIndex(JAVA_INT, 0), ids.getAtIndex(JAVA_INT, 1), ids.getAtIndex(JAVA_INT, 2)};
        }
    }

    /** setresuid(3) of glibc: every thread of the process changes (-1 leaves an id as it is). */
    public static void setresuid(int real, int effective, int saved) {
        SETRESUID.call((h, state) -> (int) h.invokeExact(state, real, effective, saved));
    }

    /** The Linux system call number of setresuid on this architecture. */
    private static long sysSetresuid() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> 117;
            case "aarch64", "arm64", "riscv64" -> 147;
            default -> throw new UnsupportedOperationException("setresuid's system call number on " + System.getProperty("os.arch"));
        };
    }

    /**
     * kill(2) with effective uid {@code effective} on the calling thread only, then back to {@code restore}:
     * the raw setresuid system call (not glibc's wrapper), so the other threads of the process keep their
     * ids throughout. Runs on a platform thread: a virtual thread could leave its carrier in between.
     */
    public static void killAsEffectiveUid(int effective, int restore, int pid, int signal) {
        if (Thread.currentThread().isVirtual()) {
            RuntimeException[] failure = new RuntimeException[1];
            Thread t = Thread.ofPlatform().name("kill-as-" + effective).start(() -> {
                try {
                    killAsEffectiveUid(effective, restore, pid, signal);
                } catch (RuntimeException e) {
                    failure[0] = e;
                }
            });
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while signalling " + pid, e);
            }
            if (failure[0] != null) {
                throw failure[0];
            }
            return;
        }
        long nr = sysSetresuid();
        // kill's handle is made before the flip: nothing but the kill itself runs with the other uid.
        KILL.handle();
        SYSCALL4.callLong("setresuid(thread)", (h, state) -> (long) h.invokeExact(state, nr, -1L, (long) effective, -1L));
        try {
            kill(pid, signal);
        } finally {
            SYSCALL4.callLong("setresuid(thread)", (h, state) -> (long) h.invokeExact(state, nr, -1L, (long) restore, -1L));
        }
    }

    /** setresgid(3) of glibc: every thread of the process changes. */
    public static void setresgid(int real, int effective, int saved) {
        SETRESGID.call((h, state) -> (int) h.invokeExact(state, real, effective, saved));
    }

    /** setgroups(2) through glibc (every thread): the supplementary groups. */
    public static void setgroups(List<Integer> groups) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, groups.size()));
            for (int i = 0; i < groups.size(); i++) {
                list.setAtIndex(JAVA_INT, i, groups.get(i));
            }
            SETGROUPS.call((h, state) -> (int) h.invokeExact(state, (long) groups.size(), list));
        }
    }

    /** chmod(2) with the setgid and sticky bits, which java.nio's permission sets cannot express. */
    public static void chmod(java.nio.file.Path path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path.toString());
            CHMOD.call("chmod " + path, (h, state) -> (int) h.invokeExact(state, name, mode));
        }
    }

    public static void prctl(int option, long argument) {
        PRCTL.call((h, state) -> (int) h.invokeExact(state, option, argument));
    }
}
