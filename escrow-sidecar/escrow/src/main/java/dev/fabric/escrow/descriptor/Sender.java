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

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Sends on a stream socket with {@code sendmsg(2)} directly: bytes, and descriptors as one
 * {@code SCM_RIGHTS} on the same call, the counterpart of {@link Receiver}.
 * <p>
 * Why not junixsocket's stream: a reply written there is a JNI call that copies the array and, with
 * descriptors, first hands them over in a second call; here the native buffers are allocated once
 * per sender and a reply is one {@code sendmsg} that allocates nothing. A message of up to the
 * buffer's size (a whole ADD, 32,784 bytes) is one {@code sendmsg}, as the C escrow's clients read
 * it; a longer one (a bulk-recovery batch) goes in pieces, the descriptors with the first.
 * {@code MSG_NOSIGNAL}: a client that left is an {@link IOException}, never a {@code SIGPIPE}.
 * <p>
 * One thread at a time.
 */
public final class Sender {

    private static final int MSG_NOSIGNAL = 0x4000;

    private static final Downcall SENDMSG = Downcall.capturingErrno("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    /** A constant handle: each reply calls it directly, which C1 and C2 compile into a plain native call. */
    private static final MethodHandle SENDMSG_CALL = SENDMSG.handle();

    private final int socket;
    /** Freed with the sender by the GC: another thread may close the socket (and drop the sender) while a write waits. */
    private final Arena arena = Arena.ofAuto();
    private final MessageHeader header;
    private final MemorySegment callState;

    /**
     * @param socket the socket's descriptor number; the caller keeps owning it
     * @param bufferBytes the most bytes one {@code sendmsg} carries
     */
    public Sender(int socket, int bufferBytes) {
        this.socket = socket;
        this.header = new MessageHeader(arena, bufferBytes);
        this.callState = Downcall.callState(arena);
    }

    /**
     * Sends {@code bytes[0..length)}, with {@code descriptors} (at most 253; they stay the caller's) as
     * one {@code SCM_RIGHTS} on the first {@code sendmsg}; returns when every byte is sent.
     *
     * @throws IOException when the peer is gone or the socket fails; how much was sent is then unknown
     */
    public void send(byte[] bytes, int length, FileDescriptor... descriptors) throws IOException {
        if (descriptors.length > Receiver.MAX_DESCRIPTORS) {
            throw new IllegalArgumentException(descriptors.length + " descriptors in one message; at most " + Receiver.MAX_DESCRIPTORS);
        }
        MemorySegment control = header.control;
        int controlLength = 0;
        if (descriptors.length > 0) {
            control.set(JAVA_LONG, 0, MessageHeader.CMSG_HEADER + (long) descriptors.length * Integer.BYTES); // CMSG_LEN
            control.set(JAVA_INT, 8, MessageHeader.SOL_SOCKET);
            control.set(JAVA_INT, 12, MessageHeader.SCM_RIGHTS);
            for (int i = 0; i < descriptors.length; i++) {
                control.set(JAVA_INT, MessageHeader.CMSG_HEADER + (long) i * Integer.BYTES, Descriptors.number(descriptors[i]));
            }
            controlLength = (MessageHeader.CMSG_HEADER + descriptors.length * Integer.BYTES + 7) & ~7; // CMSG_SPACE
        }
        int at = 0;
        do {
            int piece = (int) Math.min(length - at, header.data.byteSize());
            MemorySegment.copy(bytes, at, header.data, ValueLayout.JAVA_BYTE, 0, piece);
            int sent = 0;
            while (sent < piece) {
                header.buffer(sent, piece - sent);
                header.control(controlLength);
                long n;
                try {
                    n = (long) SENDMSG_CALL.invokeExact(callState, socket, header.msghdr, MSG_NOSIGNAL);
                } catch (Throwable t) {
                    throw new IllegalStateException(t); // a native function throws nothing
                }
                if (n == -1) {
                    int errno = Downcall.errno(callState);
                    if (errno == Posix.EINTR) {
                        continue;
                    }
                    PosixException e = new PosixException("sendmsg", errno);
                    throw new IOException("sendmsg on the session failed: " + e.getMessage(), e);
                }
                controlLength = 0; // the descriptors went with the first bytes
                sent += (int) n;
            }
            at += piece;
        } while (at < length);
    }
}
