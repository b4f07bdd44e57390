package dev.fabric.escrow.descriptor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native buffers of one {@link Sender} or {@link Receiver}: a {@code struct msghdr} (LP64 Linux)
 * without an address, one {@code struct iovec} over {@link #data}, and in {@link #control} room for
 * one {@code SCM_RIGHTS} of up to 253 descriptors. Allocated once, so a call allocates nothing.
 */
final class MessageHeader {

    static final int SOL_SOCKET = 1;
    static final int SCM_RIGHTS = 1;
    static final int CMSG_HEADER = 16; // size_t len, int level, int type
    static final int CONTROL_BYTES = CMSG_HEADER + Receiver.MAX_DESCRIPTORS * Integer.BYTES + 4; // CMSG_SPACE(253 * 4)

    final MemorySegment data;
    final MemorySegment control;
    final MemorySegment msghdr;
    private final MemorySegment iov;

    MessageHeader(Arena arena, int dataBytes) {
        data = arena.allocate(dataBytes, 8);
        control = arena.allocate(CONTROL_BYTES, 8);
        iov = arena.allocate(16, 8);                 // struct iovec { void *base; size_t len; }
        msghdr = arena.allocate(56, 8);              // struct msghdr
        iov.set(ADDRESS, 0, data);
        msghdr.set(ADDRESS, 0, MemorySegment.NULL);  // msg_name
        msghdr.set(JAVA_INT, 8, 0);                  // msg_namelen
        msghdr.set(ADDRESS, 16, iov);                // msg_iov
        msghdr.set(JAVA_LONG, 24, 1);                // msg_iovlen
        msghdr.set(JAVA_INT, 48, 0);                 // msg_flags
    }

    /** The iovec: {@code length} bytes of {@link #data} from {@code offset}. */
    void buffer(long offset, long length) {
        iov.set(JAVA_LONG, 0, data.address() + offset);
        iov.set(JAVA_LONG, 8, length);
    }

    /** msg_control: the first {@code length} bytes of {@link #control}, none when zero; msg_flags cleared. */
    void control(long length) {
        msghdr.set(ADDRESS, 32, length == 0 ? MemorySegment.NULL : control);
        msghdr.set(JAVA_LONG, 40, length);
        msghdr.set(JAVA_INT, 48, 0);
    }

    /** msg_controllen as the kernel left it after a recvmsg. */
    long controlLength() {
        return msghdr.get(JAVA_LONG, 40);
    }

    /** msg_flags as the kernel left them after a recvmsg. */
    int flags() {
        return msghdr.get(JAVA_INT, 48);
    }
}
