package dev.fabric.escrow.descriptor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux system calls Java lacks, through the Foreign Function &amp; Memory API
 * (run with {@code --enable-native-access=ALL-UNNAMED}). Linux constants; x86-64 and arm64.
 * <p>
 * These are plain blocking downcalls: a virtual thread blocked in one pins its carrier, so the
 * blocking ones ({@link #recv}, {@link #send}) belong on platform threads.
 */
@SuppressWarnings("restricted") // native access is the point of this class; the JVM runs with --enable-native-access
public final class Posix {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int EPIPE = 32;
    public static final int EPROTO = 71;
    public static final int ENOTSOCK = 88;
    public static final int ECONNRESET = 104;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"),
            Map.entry(EINTR, "EINTR"), Map.entry(EBADF, "EBADF"), Map.entry(EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"),
            Map.entry(EINVAL, "EINVAL"), Map.entry(EMFILE, "EMFILE"), Map.entry(EPIPE, "EPIPE"), Map.entry(EPROTO, "EPROTO"),
            Map.entry(ENOTSOCK, "ENOTSOCK"), Map.entry(ECONNRESET, "ECONNRESET"), Map.entry(ESHUTDOWN, "ESHUTDOWN"),
            Map.entry(ETIMEDOUT, "ETIMEDOUT"), Map.entry(ECONNREFUSED, "ECONNREFUSED"));

    static final int SOL_SOCKET = 1;
    static final int SO_TYPE = 3;
    static final int SO_ACCEPTCONN = 30;
    static final int SOCK_STREAM = 1;
    static final int IPPROTO_TCP = 6;
    static final int TCP_INFO = 11;
    static final long FIONREAD = 0x541B;   // SIOCINQ
    static final long TIOCOUTQ = 0x5411;   // SIOCOUTQ
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int O_NONBLOCK = 0x800;
    public static final int MSG_PEEK = 0x2;
    static final int MSG_NOSIGNAL = 0x4000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final MethodHandle GETUID = downcall("getuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETGID = downcall("getgid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = downcall("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SETSID = downcall("setsid", FunctionDescriptor.of(JAVA_INT), ERRNO_OPTION);
    private static final MethodHandle GETSOCKOPT = downcall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO_OPTION);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle RECV = downcall("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO_OPTION);
    private static final MethodHandle SEND = downcall("send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO_OPTION);

    private Posix() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    public static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    /** The real user id of this process. */
    public static int getuid() {
        try {
            return (int) GETUID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The real group id of this process. */
    public static int getgid() {
        try {
            return (int) GETGID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Starts a new session so the process leaves its terminal's process group (daemonizing). */
    public static void setsid() throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) SETSID.invokeExact(state);
            check("setsid", rc, state);
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code getsockopt} of an int option; throws with {@link #ENOTSOCK} for a descriptor that is no socket. */
    public static int getsockoptInt(int fd, int level, int option) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, 4);
            int rc = (int) GETSOCKOPT.invokeExact(state, fd, level, option, value, length);
            check("getsockopt", rc, state);
            return value.get(JAVA_INT, 0);
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code getsockopt} into a byte array (for structs such as {@code tcp_info}); returns the bytes filled. */
    public static int getsockopt(int fd, int level, int option, byte[] into) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment value = arena.allocate(into.length);
            MemorySegment length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, into.length);
            int rc = (int) GETSOCKOPT.invokeExact(state, fd, level, option, value, length);
            check("getsockopt", rc, state);
            int filled = Math.min(into.length, length.get(JAVA_INT, 0));
            MemorySegment.copy(value, ValueLayout.JAVA_BYTE, 0, into, 0, filled);
            return filled;
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code ioctl(fd, request, &int)}. */
    public static int ioctlInt(int fd, long request) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment value = arena.allocate(JAVA_INT);
            int rc = (int) IOCTL.invokeExact(state, fd, request, value);
            check("ioctl", rc, state);
            return value.get(JAVA_INT, 0);
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Clears {@code O_NONBLOCK} on the open file description (shared with every copy of the descriptor). */
    public static void setBlocking(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int flags = (int) FCNTL.invokeExact(state, fd, F_GETFL, 0);
            check("fcntl(F_GETFL)", flags, state);
            if ((flags & O_NONBLOCK) != 0) {
                int rc = (int) FCNTL.invokeExact(state, fd, F_SETFL, flags & ~O_NONBLOCK);
                check("fcntl(F_SETFL)", rc, state);
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code recv(2)} into {@code buffer[0..length)}; returns the bytes received, 0 at end of stream. Retries on EINTR. */
    public static int recv(int fd, byte[] buffer, int length, int flags) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment data = arena.allocate(Math.max(1, length));
            while (true) {
                long n = (long) RECV.invokeExact(state, fd, data, (long) length, flags);
                if (n < 0 && (int) ERRNO.get(state, 0L) == EINTR) {
                    continue;
                }
                check("recv", (int) Math.min(n, 0), state);
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, buffer, 0, (int) n);
                return (int) n;
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code send(2)} of all of {@code buffer[0..length)} (looping over partial sends), without SIGPIPE. */
    public static void sendAll(int fd, byte[] buffer, int length) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment data = arena.allocate(Math.max(1, length));
            MemorySegment.copy(buffer, 0, data, ValueLayout.JAVA_BYTE, 0, length);
            long sent = 0;
            while (sent < length) {
                long n = (long) SEND.invokeExact(state, fd, data.asSlice(sent), length - sent, MSG_NOSIGNAL);
                if (n < 0 && (int) ERRNO.get(state, 0L) == EINTR) {
                    continue;
                }
                check("send", (int) Math.min(n, 0), state);
                sent += n;
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void check(String call, int rc, MemorySegment state) throws PosixException {
        if (rc < 0) {
            throw new PosixException(call, (int) ERRNO.get(state, 0L));
        }
    }
}
