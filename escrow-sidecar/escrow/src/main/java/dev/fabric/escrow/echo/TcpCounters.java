package dev.fabric.escrow.echo;

import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.posix.PosixException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How many bytes a TCP socket's owners have written to it and read from it over its whole life,
 * asked of the kernel, which keeps counting across a restart of the process that owns the socket:
 * <ul>
 * <li>written = {@code tcpi_bytes_acked} + unacknowledged and unsent bytes ({@code SIOCOUTQ});</li>
 * <li>consumed = {@code tcpi_bytes_received} - unread bytes ({@code SIOCINQ}), less the FIN once received.</li>
 * </ul>
 * This is how the echo server knows, after a kill -9, whether it had already echoed the bytes at
 * the head of the receive queue (see {@link EchoServer}). Linux 4.2 or newer.
 */
final class TcpCounters {

    private static final int TCP_INFO_SIZE = 232;
    private static final int OFFSET_BYTES_ACKED = 120;
    private static final int OFFSET_BYTES_RECEIVED = 128;
    private static final int TCP_TIME_WAIT = 6;
    private static final int TCP_CLOSE = 7;
    private static final int TCP_CLOSE_WAIT = 8;
    private static final int TCP_LAST_ACK = 9;
    private static final int TCP_CLOSING = 11;

    /** Bytes written to and consumed from one socket since it was opened. */
    record Totals(long written, long consumed) {
    }

    private TcpCounters() {
    }

    /** A consistent reading: retried while ACKs or data arrive between the calls. */
    static Totals of(int fd) throws PosixException {
        while (true) {
            ByteBuffer before = tcpInfo(fd);
            int unread = Posix.ioctlInt(fd, 0x541B);      // SIOCINQ
            int unacked = Posix.ioctlInt(fd, 0x5411);     // SIOCOUTQ
            ByteBuffer after = tcpInfo(fd);
            long acked = after.getLong(OFFSET_BYTES_ACKED);
            long received = after.getLong(OFFSET_BYTES_RECEIVED);
            if (acked != before.getLong(OFFSET_BYTES_ACKED) || received != before.getLong(OFFSET_BYTES_RECEIVED)) {
                continue;
            }
            int state = after.get(0) & 0xff;
            boolean finReceived = state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING
                    || state == TCP_TIME_WAIT || state == TCP_CLOSE;
            return new Totals(acked + unacked, received - unread - (finReceived ? 1 : 0));
        }
    }

    private static ByteBuffer tcpInfo(int fd) throws PosixException {
        byte[] info = new byte[TCP_INFO_SIZE];
        int filled = Posix.getsockopt(fd, 6, 11, info); // IPPROTO_TCP, TCP_INFO
        if (filled < OFFSET_BYTES_RECEIVED + 8) {
            throw new PosixException("getsockopt(TCP_INFO) returned " + filled + " bytes, a kernel older than 4.2?", Posix.EINVAL);
        }
        return ByteBuffer.wrap(info).order(ByteOrder.nativeOrder());
    }
}
