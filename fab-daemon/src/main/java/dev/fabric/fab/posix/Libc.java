package dev.fabric.fab.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The process and credential calls fab's daemons need and Java lacks, bound to the C library through
 * the Foreign Function &amp; Memory API (the JVM runs with {@code --enable-native-access=ALL-UNNAMED}).
 * <p>
 * The credential calls are glibc's wrappers, not raw system calls, on purpose: on Linux a
 * {@code setresuid} system call changes only the calling thread, while glibc's wrapper signals every
 * thread of the process to make the same change, so a JVM's threads never disagree about who they are.
 * The one exception is {@link #killAsEffectiveUid}: faba's instant as fabsys to signal fabd is the raw
 * system call on the calling thread alone, so no other thread (writing a command's results, creating a
 * target's directory) ever does anything with fabsys's rights.
 */
@SuppressWarnings("restricted") // native access is the point of this class
public final class Libc {
    public static final int EPERM = 1;
    public static final int ESRCH = 3;
    public static final int PR_SET_PDEATHSIG = 1;
    public static final int PR_SET_DUMPABLE = 4;

    private static final Map<Integer, String> NAMES = Map.of(EPERM, "EPERM (operation not permitted)",
            ESRCH, "ESRCH (no such process)", 22, "EINVAL (invalid argument)", 13, "EACCES (permission denied)");

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    // Each downcall handle is made the first time it is used (a holder class per call): making one costs
    // milliseconds of class generation, and the client, which only needs kill and getpid, starts faster.
    private static final class GetpidCall {
        static final MethodHandle H = downcall("getpid", FunctionDescriptor.of(JAVA_INT));
    }
    private static final class GetppidCall {
        static final MethodHandle H = downcall("getppid", FunctionDescriptor.of(JAVA_INT));
    }
    private static final class GetuidCall {
        static final MethodHandle H = downcall("getuid", FunctionDescriptor.of(JAVA_INT));
    }
    private static final class GeteuidCall {
        static final MethodHandle H = downcall("geteuid", FunctionDescriptor.of(JAVA_INT));
    }
    private static final class GetgidCall {
        static final MethodHandle H = downcall("getgid", FunctionDescriptor.of(JAVA_INT));
    }
    private static final class KillCall {
        static final MethodHandle H = downcall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO_OPTION);
    }
    private static final class SetsidCall {
        static final MethodHandle H = downcall("setsid", FunctionDescriptor.of(JAVA_INT), ERRNO_OPTION);
    }
    private static final class SetpgidCall {
        static final MethodHandle H = downcall("setpgid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO_OPTION);
    }
    private static final class GetresuidCall {
        static final MethodHandle H = downcall("getresuid", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), ERRNO_OPTION);
    }
    private static final class SetresuidCall {
        static final MethodHandle H = downcall("setresuid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO_OPTION);
    }
    private static final class SetresgidCall {
        static final MethodHandle H = downcall("setresgid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO_OPTION);
    }
    private static final class SetgroupsCall {
        static final MethodHandle H = downcall("setgroups", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS), ERRNO_OPTION);
    }
    /** syscall(2), for the one per-thread credential change; the system call number and ids as longs. */
    private static final class Syscall4Call {
        static final MethodHandle H = downcall("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), ERRNO_OPTION);
    }
    private static final class ChmodCall {
        static final MethodHandle H = downcall("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO_OPTION);
    }
    private static final class PrctlCall {
        static final MethodHandle H = downcall("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG),
                ERRNO_OPTION, Linker.Option.firstVariadicArg(1));
    }

    private Libc() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker linker = Linker.nativeLinker();
        MemorySegment symbol = linker.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return linker.downcallHandle(symbol, descriptor, options);
    }

    public static String errnoName(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    public static int getpid() {
        try {
            return (int) GetpidCall.H.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int getppid() {
        try {
            return (int) GetppidCall.H.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int getuid() {
        try {
            return (int) GetuidCall.H.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GeteuidCall.H.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int getgid() {
        try {
            return (int) GetgidCall.H.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** kill(2); throws with the errno (ESRCH: no such process, EPERM: the credentials do not allow it). */
    public static void kill(int pid, int signal) {
        call("kill", state -> (int) KillCall.H.invokeExact(state, pid, signal));
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
        call("setsid", state -> (int) SetsidCall.H.invokeExact(state));
    }

    public static void setpgid(int pid, int pgid) {
        call("setpgid", state -> (int) SetpgidCall.H.invokeExact(state, pid, pgid));
    }

    /** Real, effective and saved user ids. */
    public static int[] getresuid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocate(JAVA_INT, 3);
            call("getresuid", state -> (int) GetresuidCall.H.invokeExact(state, ids, ids.asSlice(4), ids.asSlice(8)));
            return new int[] {ids.getAtIndex(JAVA_INT, 0), ids.getAtIndex(JAVA_INT, 1), ids.getAtIndex(JAVA_INT, 2)};
        }
    }

    /** setresuid(3) of glibc: every thread of the process changes (-1 leaves an id as it is). */
    public static void setresuid(int real, int effective, int saved) {
        call("setresuid", state -> (int) SetresuidCall.H.invokeExact(state, real, effective, saved));
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
        java.util.Objects.requireNonNull(KillCall.H);
        call("setresuid(thread)", state -> (int) (long) Syscall4Call.H.invokeExact(state, nr, -1L, (long) effective, -1L));
        try {
            kill(pid, signal);
        } finally {
            call("setresuid(thread)", state -> (int) (long) Syscall4Call.H.invokeExact(state, nr, -1L, (long) restore, -1L));
        }
    }

    /** setresgid(3) of glibc: every thread of the process changes. */
    public static void setresgid(int real, int effective, int saved) {
        call("setresgid", state -> (int) SetresgidCall.H.invokeExact(state, real, effective, saved));
    }

    /** setgroups(2) through glibc (every thread): the supplementary groups. */
    public static void setgroups(List<Integer> groups) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, groups.size()));
            for (int i = 0; i < groups.size(); i++) {
                list.setAtIndex(JAVA_INT, i, groups.get(i));
            }
            call("setgroups", state -> (int) SetgroupsCall.H.invokeExact(state, (long) groups.size(), list));
        }
    }

    /** chmod(2) with the setgid and sticky bits, which java.nio's permission sets cannot express. */
    public static void chmod(java.nio.file.Path path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path.toString());
            call("chmod " + path, state -> (int) ChmodCall.H.invokeExact(state, name, mode));
        }
    }

    public static void prctl(int option, long argument) {
        call("prctl", state -> (int) PrctlCall.H.invokeExact(state, option, argument));
    }

    @FunctionalInterface
    private interface Call {
        int invoke(MemorySegment state) throws Throwable;
    }

    private static void call(String name, Call call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc;
            try {
                rc = call.invoke(state);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (rc == -1) {
                throw new PosixException(name, (int) ERRNO.get(state, 0L));
            }
        }
    }
}
