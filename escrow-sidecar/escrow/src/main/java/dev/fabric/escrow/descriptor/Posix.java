package dev.fabric.escrow.descriptor;

import dev.fabric.posix.Downcall;
import dev.fabric.posix.Errno;
import dev.fabric.posix.PosixException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux system calls Java lacks, through the Foreign Function &amp; Memory API
 * (run with {@code --enable-native-access=ALL-UNNAMED}). Linux constants; x86-64 and arm64.
 * Binding, errno capture and the one {@link PosixException} come from {@code fabric-posix}; this
 * class is the escrow's list of calls.
 * <p>
 * These are plain blocking downcalls: a virtual thread blocked in one pins its carrier, so the
 * blocking ones ({@link #recv}, {@link #send}) belong on platform threads.
 */
public final class Posix {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOSPC = 28;
    public static final int EPIPE = 32;
    public static final int ELOOP = 40;
    public static final int EPROTO = 71;
    public static final int ENOTSOCK = 88;
    public static final int ECONNRESET = 104;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;

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
    static final int O_WRONLY = 0x1;
    static final int O_CREAT = 0x40;
    static final int O_NOCTTY = 0x100;
    static final int O_APPEND = 0x400;
    static final int O_NOFOLLOW = 0x20000;
    static final int O_CLOEXEC = 0x80000;
    static final short POLLIN = 0x1;

    private static final Downcall GETUID = Downcall.of("getuid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETGID = Downcall.of("getgid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETPID = Downcall.of("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall SETSID = Downcall.capturingErrno("setsid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETSOCKOPT = Downcall.capturingErrno("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final Downcall IOCTL = Downcall.capturingErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final Downcall FCNTL = Downcall.capturingErrno("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final Downcall RECV = Downcall.capturingErrno("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final Downcall SEND = Downcall.capturingErrno("send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private static final Downcall OPEN = Downcall.capturingErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final Downcall FCHMOD = Downcall.capturingErrno("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall DUP2 = Downcall.capturingErrno("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall CLOSE = Downcall.capturingErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final Downcall POLL = Downcall.capturingErrno("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private Posix() {
    }

    /** The errno's symbolic name ({@code ENOENT}), as the C library names it. */
    public static String name(int errno) {
        return Errno.name(errno);
    }

    /** The real user id of this process. */
    public static int getuid() {
        return GETUID.value(h -> (int) h.invokeExact());
    }

    /** The real group id of this process. */
    public static int getgid() {
        return GETGID.value(h -> (int) h.invokeExact());
    }

    public static int getpid() {
        return GETPID.value(h -> (int) h.invokeExact());
    }

    /** Starts a new session so the process leaves its terminal's process group (daemonizing). */
    public static void setsid() {
        SETSID.call((h, state) -> (int) h.invokeExact(state));
    }

    /** {@code getsockopt} of an int option; throws with {@link #ENOTSOCK} for a descriptor that is no socket. */
    public static int getsockoptInt(int fd, int level, int option) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, 4);
            GETSOCKOPT.call((h, state) -> (int) h.invokeExact(state, fd, level, option, value, length));
            return value.get(JAVA_INT, 0);
        }
    }

    /**
     * {@code getsockopt(fd, SOL_SOCKET, options[i])} for each option, into {@code out[i]}, or the
     * negated errno where it failed: one native allocation for all, and a constant handle, so that a
     * daemon describing thousands of descriptors in one bulk recovery does little per descriptor even
     * before its JIT has compiled this.
     */
    public static void socketOptions(int fd, int[] options, int[] out) {
        MethodHandle h = Getsockopt.HANDLE;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocate(JAVA_INT);
            MemorySegment state = Downcall.callState(arena);
            for (int i = 0; i < options.length; i++) {
                length.set(JAVA_INT, 0, 4);
                int rc;
                try {
                    rc = (int) h.invokeExact(state, fd, SOL_SOCKET, options[i], value, length);
                } catch (Throwable t) {
                    throw new IllegalStateException(t); // a native function throws nothing
                }
                out[i] = rc == -1 ? -Downcall.errno(state) : value.get(JAVA_INT, 0);
            }
        }
    }

    /** Bound on first use of {@link #socketOptions} only (binding costs milliseconds). */
    private static final class Getsockopt {
        static final MethodHandle HANDLE = GETSOCKOPT.handle();
    }

    /** {@code getsockopt} into a byte array (for structs such as {@code tcp_info}); returns the bytes filled. */
    public static int getsockopt(int fd, int level, int option, byte[] into) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(into.length);
            MemorySegment length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, into.length);
            GETSOCKOPT.call((h, state) -> (int) h.invokeExact(state, fd, level, option, value, length));
            int filled = Math.min(into.length, length.get(JAVA_INT, 0));
            MemorySegment.copy(value, ValueLayout.JAVA_BYTE, 0, into, 0, filled);
            return filled;
        }
    }

    /** {@code ioctl(fd, request, &int)}. */
    public static int ioctlInt(int fd, long request) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            IOCTL.call("ioctl", (h, state) -> (int) h.invokeExact(state, fd, request, value));
            return value.get(JAVA_INT, 0);
        }
    }

    /** Clears {@code O_NONBLOCK} on the open file description (shared with every copy of the descriptor). */
    public static void setBlocking(int fd) {
        int flags = FCNTL.call("fcntl(F_GETFL)", (h, state) -> (int) h.invokeExact(state, fd, F_GETFL, 0));
        if ((flags & O_NONBLOCK) != 0) {
            FCNTL.call("fcntl(F_SETFL)", (h, state) -> (int) h.invokeExact(state, fd, F_SETFL, flags & ~O_NONBLOCK));
        }
    }

    /** {@code recv(2)} into {@code buffer[0..length)}; returns the bytes received, 0 at end of stream. Retries on EINTR. */
    public static int recv(int fd, byte[] buffer, int length, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(1, length));
            long n = RECV.callRetryingInterrupted("recv", (h, state) -> (long) h.invokeExact(state, fd, data, (long) length, flags));
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, buffer, 0, (int) n);
            return (int) n;
        }
    }

    /** {@code send(2)} of all of {@code buffer[0..length)} (looping over partial sends), without SIGPIPE. */
    public static void sendAll(int fd, byte[] buffer, int length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(1, length));
            MemorySegment.copy(buffer, 0, data, ValueLayout.JAVA_BYTE, 0, length);
            long sent = 0;
            while (sent < length) {
                MemorySegment rest = data.asSlice(sent);
                long left = length - sent;
                sent += SEND.callRetryingInterrupted("send", (h, state) -> (long) h.invokeExact(state, fd, rest, left, MSG_NOSIGNAL));
            }
        }
    }

    /**
     * Opens (creating with mode 0600 when absent) a file for writing without following a symbolic
     * link at its last component ({@code O_NOFOLLOW}: a link there fails with {@link #ELOOP}), and
     * sets its mode to exactly 0600 through the descriptor ({@code fchmod}), so the mode change
     * lands on the file opened and never on whatever a path names a moment later. Returns the
     * descriptor number, owned by the caller.
     *
     * @param append open for appending (a log) rather than plain writing (a lock)
     */
    public static int openPrivateNoFollow(String path, boolean append) {
        int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (append ? O_APPEND : 0);
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            fd = OPEN.call("open " + path, (h, state) -> (int) h.invokeExact(state, cPath, flags, 0600));
        }
        try {
            FCHMOD.call("fchmod " + path, (h, state) -> (int) h.invokeExact(state, fd, 0600));
        } catch (PosixException e) {
            close(fd);
            throw e;
        }
        return fd;
    }

    /** {@code dup2(2)}: makes {@code target} (1 for stdout, 2 for stderr) a copy of {@code fd}. */
    public static void dup2(int fd, int target) {
        DUP2.call("dup2", (h, state) -> (int) h.invokeExact(state, fd, target));
    }

    /** {@code close(2)} of a descriptor number this class handed out; errors are ignored (the number is gone either way). */
    public static void close(int fd) {
        try {
            CLOSE.call("close", (h, state) -> (int) h.invokeExact(state, fd));
        } catch (PosixException e) {
            // EBADF or EINTR: on Linux the descriptor is released in both cases.
        }
    }

    /**
     * Whether {@code fd} is readable now, without waiting ({@code poll} with a zero timeout). For a
     * listening socket: whether a connection waits to be accepted.
     */
    public static boolean readableNow(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4); // struct pollfd { int fd; short events; short revents; }
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
            int ready = POLL.call("poll", (h, state) -> (int) h.invokeExact(state, pollfd, 1L, 0));
            return ready > 0 && (pollfd.get(ValueLayout.JAVA_SHORT, 6) & POLLIN) != 0;
        }
    }
}
