package dev.fabric.escrow.descriptor;

import dev.fabric.posix.Downcall;
import dev.fabric.posix.PosixException;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Receives from a stream socket with {@code recvmsg(2)} directly: bytes, and the descriptors that
 * came with them (SCM_RIGHTS), which the caller then owns outright.
 * <p>
 * Why not junixsocket's stream: junixsocket keeps every descriptor it received and closes it when
 * the socket closes, so a daemon that must hold one past its session had to {@code dup} it and
 * close the received copy (two system calls per ADD); and it waits for readability with
 * {@code poll} before every read when a timeout is set. Here a descriptor is the caller's from the
 * start, and a timeout is the socket's {@code SO_RCVTIMEO}.
 * <p>
 * One thread at a time; the buffers are allocated once per receiver.
 */
public final class Receiver {

    /** The kernel's most descriptors in one message ({@code SCM_MAX_FD}). */
    public static final int MAX_DESCRIPTORS = 253;
    private static final int SOL_SOCKET = MessageHeader.SOL_SOCKET;
    private static final int SO_RCVTIMEO = 20;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int CMSG_HEADER = MessageHeader.CMSG_HEADER;

    private static final Downcall RECVMSG = Downcall.capturingErrno("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    /** A constant handle: the request loop calls it directly, which C1 and C2 compile into a plain native call. */
    private static final MethodHandle RECVMSG_CALL = RECVMSG.handle();
    private static final Downcall SETSOCKOPT = Downcall.capturingErrno("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

    private final int socket;
    /** Freed with the receiver by the GC: another thread may close the socket (and drop the receiver) while a read waits. */
    private final Arena arena = Arena.ofAuto();
    private final MessageHeader header;
    private final MemorySegment data;
    private final MemorySegment control;
    /** The errno of a failed recvmsg, allocated once: a read allocates no native memory. */
    private final MemorySegment callState;
    private FileDescriptor[] received = new FileDescriptor[0];
    private boolean truncatedDescriptors;

    /** @param socket the socket's descriptor number; the caller keeps owning it */
    public Receiver(int socket, int maxBytes) {
        this.socket = socket;
        this.header = new MessageHeader(arena, maxBytes);
        this.data = header.data;
        this.control = header.control;
        this.callState = Downcall.callState(arena);
    }

    /** {@code SO_RCVTIMEO}: a receive that waits this long returns {@link #TIMED_OUT}; zero waits for ever. */
    public void setTimeout(Duration timeout) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment timeval = call.allocate(16, 8);
            timeval.set(JAVA_LONG, 0, timeout.toSeconds());
            timeval.set(JAVA_LONG, 8, timeout.toNanosPart() / 1_000);
            SETSOCKOPT.call("setsockopt(SO_RCVTIMEO)", (h, state) -> (int) h.invokeExact(state, socket, SOL_SOCKET, SO_RCVTIMEO, timeval, 16));
        }
    }

    /** What {@link #read} returns when the timeout passed without a byte. */
    public static final int TIMED_OUT = -1;

    /**
     * Reads up to {@code length} bytes into {@code into[offset..]} and the descriptors that came with
     * them ({@link #descriptors()}); waits for the first byte. 0 at end of stream, {@link #TIMED_OUT}.
     */
    public int read(byte[] into, int offset, int length) throws IOException {
        return receive(into, offset, length, MSG_CMSG_CLOEXEC, true);
    }

    /** The descriptors that came with the last {@link #read}; the caller owns them (and must close them). */
    public FileDescriptor[] descriptors() {
        return received;
    }

    /** Whether the kernel dropped descriptors of the last read for want of room (more than 253 in a message). */
    public boolean descriptorsTruncated() {
        return truncatedDescriptors;
    }

    private int receive(byte[] into, int offset, int length, int flags, boolean withControl) throws IOException {
        received = NONE;
        truncatedDescriptors = false;
        int want = (int) Math.min(length, data.byteSize());
        header.buffer(0, want);
        header.control(withControl ? MessageHeader.CONTROL_BYTES : 0);
        long n;
        while (true) {
            try {
                n = (long) RECVMSG_CALL.invokeExact(callState, socket, header.msghdr, flags);
            } catch (Throwable t) {
                throw new IllegalStateException(t); // a native function throws nothing
            }
            if (n != -1) {
                break;
            }
            int errno = Downcall.errno(callState);
            if (errno == Posix.EAGAIN) {
                return TIMED_OUT;
            }
            if (errno != Posix.EINTR) {
                PosixException e = new PosixException("recvmsg", errno);
                throw new IOException("recvmsg on the session failed: " + e.getMessage(), e);
            }
        }
        if (withControl) {
            takeDescriptors();
        }
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, into, offset, (int) n);
        return (int) n;
    }

    private void takeDescriptors() {
        truncatedDescriptors = (header.flags() & MSG_CTRUNC) != 0;
        long used = header.controlLength();
        long at = 0;
        java.util.List<FileDescriptor> out = null;
        while (at + CMSG_HEADER <= used) {
            long length = control.get(JAVA_LONG, at);
            int level = control.get(JAVA_INT, at + 8);
            int type = control.get(JAVA_INT, at + 12);
            if (length < CMSG_HEADER || at + length > used) {
                break;
            }
            if (level == SOL_SOCKET && type == MessageHeader.SCM_RIGHTS) {
                int count = (int) ((length - CMSG_HEADER) / Integer.BYTES);
                for (int i = 0; i < count; i++) {
                    if (out == null) {
                        out = new java.util.ArrayList<>(count);
                    }
                    out.add(JdkChannels.descriptorOf(control.get(JAVA_INT, at + CMSG_HEADER + (long) i * Integer.BYTES)));
                }
            }
            at += (length + 7) & ~7L;
        }
        received = out == null ? NONE : out.toArray(FileDescriptor[]::new);
    }

    private static final FileDescriptor[] NONE = new FileDescriptor[0];
}
