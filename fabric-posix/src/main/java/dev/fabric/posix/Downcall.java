package dev.fabric.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Optional;

/**
 * One C library function, bound through the Foreign Function &amp; Memory API the first time it is
 * called (the JVM runs with {@code --enable-native-access=ALL-UNNAMED}).
 * <p>
 * Binding is lazy because making a downcall handle costs milliseconds of class generation: a short
 * command that needs two calls of a list of twenty should pay for two. A product keeps its own list
 * of calls as constants and calls them through {@link #call} (failures become a
 * {@link PosixException} with the errno) or {@link #value} (calls that cannot fail):
 * <pre>{@code
 * private static final Downcall KILL = Downcall.capturingErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
 *
 * public static void kill(int pid, int signal) {
 *     KILL.call((handle, state) -> (int) handle.invokeExact(state, pid, signal));
 * }
 * }</pre>
 * A handle made with {@link #capturingErrno} takes the call-state segment as its first argument;
 * {@link #call} allocates it and reads the errno from it, so the errno is the one the call set, not
 * one a later call of the JVM's own overwrote.
 */
@SuppressWarnings("restricted") // native access is the point of this class
public final class Downcall {

    private final String name;
    private final FunctionDescriptor descriptor;
    private final Linker.Option[] options;
    private final boolean capturesErrno;
    private volatile MethodHandle handle;

    private Downcall(String name, FunctionDescriptor descriptor, boolean capturesErrno, Linker.Option... options) {
        this.name = name;
        this.descriptor = descriptor;
        this.capturesErrno = capturesErrno;
        this.options = options;
    }

    /** A function that cannot fail (as {@code getpid}), called through {@link #value}. */
    public static Downcall of(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return new Downcall(name, descriptor, false, options);
    }

    /**
     * A function that reports failure as -1 and errno, called through {@link #call}; its handle
     * takes the call state first. {@code options} are further linker options (for a variadic
     * function, {@link Linker.Option#firstVariadicArg}).
     */
    public static Downcall capturingErrno(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = Arrays.copyOf(options, options.length + 1);
        all[options.length] = Errno.CAPTURE;
        return new Downcall(name, descriptor, true, all);
    }

    public String name() {
        return name;
    }

    /** Whether the C library has this function (musl lacks some of glibc's). */
    public boolean available() {
        return symbol().isPresent();
    }

    /**
     * The bound handle, made on first use.
     *
     * @throws UnsatisfiedLinkError when the C library has no such function
     */
    public MethodHandle handle() {
        MethodHandle h = handle;
        if (h == null) {
            synchronized (this) {
                h = handle;
                if (h == null) {
                    MemorySegment address = symbol().orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
                    h = Linker.nativeLinker().downcallHandle(address, descriptor, options);
                    handle = h;
                }
            }
        }
        return h;
    }

    private Optional<MemorySegment> symbol() {
        return Linker.nativeLinker().defaultLookup().find(name);
    }

    /** Calls a function that returns an int and fails with -1; throws a {@link PosixException} named after the function. */
    public int call(IntInvocation invocation) {
        return call(name, invocation);
    }

    /** As {@link #call(IntInvocation)}, the exception naming {@code what} (for example the call and its path). */
    public int call(String what, IntInvocation invocation) {
        return (int) callLong(what, (h, state) -> invocation.invoke(h, state));
    }

    /** Calls a function that returns a long (a {@code ssize_t}) and fails with -1. */
    public long callLong(String what, LongInvocation invocation) {
        return invoke(what, invocation, false);
    }

    /** As {@link #callLong}, calling again while the call fails with {@code EINTR} (a signal interrupted it). */
    public long callRetryingInterrupted(String what, LongInvocation invocation) {
        return invoke(what, invocation, true);
    }

    /**
     * A call-state segment to pass to {@link #callRetryingInterrupted(MemorySegment, String, LongInvocation)}:
     * allocated once by a caller that makes the same call in a loop on one thread (a server's reads and
     * writes), so that each call allocates and frees nothing.
     */
    public static MemorySegment callState(Arena arena) {
        return arena.allocate(Errno.STATE);
    }

    /**
     * The errno a failed call left in a {@link #callState} segment, for a caller that invokes a
     * {@link #handle()} it keeps in a {@code static final} field (a constant handle, which even C1
     * compiles into a direct call) instead of going through {@link #call}.
     */
    public static int errno(MemorySegment callState) {
        return Errno.of(callState);
    }

    /** As {@link #callRetryingInterrupted(String, LongInvocation)}, with the caller's {@link #callState} (one thread at a time). */
    public long callRetryingInterrupted(MemorySegment state, String what, LongInvocation invocation) {
        return invoke(handle(), state, what, invocation, true);
    }

    private long invoke(String what, LongInvocation invocation, boolean retryInterrupted) {
        MethodHandle h = handle();
        try (Arena arena = Arena.ofConfined()) {
            return invoke(h, arena.allocate(Errno.STATE), what, invocation, retryInterrupted);
        }
    }

    private long invoke(MethodHandle h, MemorySegment state, String what, LongInvocation invocation, boolean retryInterrupted) {
        if (!capturesErrno) {
            throw new IllegalStateException(name + " was bound without errno capture: call it through value()");
        }
        while (true) {
            long rc = rethrowing(() -> invocation.invoke(h, state));
            if (rc != -1) {
                return rc;
            }
            int errno = Errno.of(state);
            if (!(retryInterrupted && errno == Errno.EINTR)) {
                throw new PosixException(what, errno);
            }
        }
    }

    /** Calls a function that cannot fail and returns an int. */
    public int value(IntValue value) {
        MethodHandle h = handle();
        return (int) rethrowing(() -> value.invoke(h));
    }

    private static long rethrowing(LongValue body) {
        try {
            return body.get();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            // invokeExact declares Throwable; a native function throws nothing checked.
            throw new IllegalStateException(t);
        }
    }

    /** The body of a call: invokes the handle with the call state first and returns what the function returned. */
    @FunctionalInterface
    public interface IntInvocation {
        int invoke(MethodHandle handle, MemorySegment state) throws Throwable;
    }

    /** As {@link IntInvocation}, for functions returning a long ({@code ssize_t}, a raw {@code syscall}). */
    @FunctionalInterface
    public interface LongInvocation {
        long invoke(MethodHandle handle, MemorySegment state) throws Throwable;
    }

    /** The body of a call that cannot fail. */
    @FunctionalInterface
    public interface IntValue {
        int invoke(MethodHandle handle) throws Throwable;
    }

    @FunctionalInterface
    private interface LongValue {
        long get() throws Throwable;
    }
}
