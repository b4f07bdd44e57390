package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.posix.PosixException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the kernel knows of a TCP connection's byte counts over its whole life, whichever process
 * owned it: the facts an exact recovery after {@code kill -9} is built on. Read them with
 * {@link HeldConnection#facts()}.
 * <p>
 * The counters survive the process that owned the socket, because the socket lives on in the
 * escrow. A protocol that consumes a request only after it has answered it (peek, write, then
 * consume, as the echo server does) learns after a restart how much it had answered but not yet
 * consumed: {@code bytesSent() - bytesConsumed()} for an echo, and drops exactly that from the head
 * of the input with {@link HeldConnection#skip}.
 * <p>
 * A peer's close (FIN) takes one sequence number, which the kernel counts as a received byte; the
 * counts here are data bytes only ({@link #peerClosed()} says whether the FIN has come). Linux 4.2
 * or newer ({@code tcpi_bytes_acked}, {@code tcpi_bytes_received}).
 *
 * @param bytesSent every byte this connection's owners wrote: acknowledged by the peer, in flight,
 *        or still queued to send ({@code tcpi_bytes_acked} + {@code SIOCOUTQ})
 * @param bytesAcknowledged the bytes the peer has acknowledged ({@code tcpi_bytes_acked})
 * @param bytesReceived every data byte that arrived from the peer ({@code tcpi_bytes_received}, less the FIN)
 * @param bytesConsumed the bytes the owners have read, that is received less those still queued ({@code SIOCINQ})
 * @param peerClosed whether the peer's FIN has arrived (no more bytes will)
 */
public record RecoveryFacts(long bytesSent, long bytesAcknowledged, long bytesReceived, long bytesConsumed, boolean peerClosed) {

    private static final int TCP_INFO_SIZE = 232;
    private static final int OFFSET_BYTES_ACKED = 120;
    private static final int OFFSET_BYTES_RECEIVED = 128;
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    private static final long SIOCINQ = 0x541B;
    private static final long SIOCOUTQ = 0x5411;
    private static final int TCP_TIME_WAIT = 6;
    private static final int TCP_CLOSE = 7;
    private static final int TCP_CLOSE_WAIT = 8;
    private static final int TCP_LAST_ACK = 9;
    private static final int TCP_CLOSING = 11;

    /** Bytes written but not yet acknowledged by the peer (in flight or queued). */
    public long bytesUnacknowledged() {
        return bytesSent - bytesAcknowledged;
    }

    /** Bytes that arrived and wait to be read. */
    public long bytesUnread() {
        return bytesReceived - bytesConsumed;
    }

    /** A consistent reading of socket {@code fd}: taken again while ACKs or data arrive between the calls. */
    static RecoveryFacts of(int fd) {
        while (true) {
            ByteBuffer before = tcpInfo(fd);
            int unread = Posix.ioctlInt(fd, SIOCINQ);
            int unsent = Posix.ioctlInt(fd, SIOCOUTQ);
            ByteBuffer after = tcpInfo(fd);
            long acked = after.getLong(OFFSET_BYTES_ACKED);
            long received = after.getLong(OFFSET_BYTES_RECEIVED);
            if (acked != before.getLong(OFFSET_BYTES_ACKED) || received != before.getLong(OFFSET_BYTES_RECEIVED)) {
                continue;
            }
            int state = after.get(0) & 0xff;
            boolean finReceived = state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING
                    || state == TCP_TIME_WAIT || state == TCP_CLOSE;
            long dataReceived = received - (finReceived ? 1 : 0);
            return new RecoveryFacts(acked + unsent, acked, dataReceived, dataReceived - unread, finReceived);
        }
    }

    private static ByteBuffer tcpInfo(int fd) {
        byte[] info = new byte[TCP_INFO_SIZE];
        int filled = Posix.getsockopt(fd, IPPROTO_TCP, TCP_INFO, info);
        if (filled < OFFSET_BYTES_RECEIVED + 8) {
            throw new PosixException("getsockopt(TCP_INFO) returned " + filled + " bytes, a kernel older than 4.2?", Posix.EINVAL);
        }
        return ByteBuffer.wrap(info).order(ByteOrder.nativeOrder());
    }
}
