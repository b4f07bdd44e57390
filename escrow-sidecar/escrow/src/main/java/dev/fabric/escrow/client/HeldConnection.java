package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.posix.PosixException;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A TCP connection kept in the escrow, with what an exact recovery needs and the JDK does not
 * offer: the kernel's {@link RecoveryFacts byte counts}, a {@link #peek} that leaves the bytes
 * queued, and a {@link #skip} that consumes a known number of them.
 * <p>
 * The recipe for a byte stream that must lose nothing and repeat nothing across {@code kill -9}:
 * <ol>
 * <li>serve each request by peeking it, writing the answer, and only then consuming it;</li>
 * <li>after a restart, {@link Escrow#get get} the socket, wrap it, and read its {@link #facts()}:
 * what was answered but not yet consumed is still at the head of the input; skip exactly that.</li>
 * </ol>
 * How much was answered follows from the counts and the protocol: for an echo, the bytes sent
 * less the bytes consumed. {@code docs/escrow.md} has the recipe in full; the echo server
 * ({@code EchoServer}) is built on this class.
 * <p>
 * The calls are blocking system calls made through the FFM API: a virtual thread blocked in one
 * pins its carrier, so serve held connections from platform threads. Reads and writes through the
 * channel and through this class may be mixed, but not from two threads at once.
 */
public final class HeldConnection {

    private final SocketChannel channel;
    private final int fd;

    private HeldConnection(SocketChannel channel, int fd) {
        this.channel = channel;
        this.fd = fd;
    }

    /**
     * Wraps a connected TCP channel (one {@link Slot#socketChannel()} revived, or one accepted);
     * puts it in blocking mode. The channel stays the caller's to close.
     *
     * @throws IllegalArgumentException when the channel is not connected
     * @throws java.nio.channels.IllegalBlockingModeException when the channel is registered with a selector
     */
    public static HeldConnection of(SocketChannel channel) throws IOException {
        Objects.requireNonNull(channel, "channel");
        if (!channel.isConnected()) {
            throw new IllegalArgumentException("the channel is not connected: " + channel);
        }
        channel.configureBlocking(true);
        int fd = Descriptors.number(Descriptors.of(channel));
        Posix.setBlocking(fd);
        return new HeldConnection(channel, fd);
    }

    public SocketChannel channel() {
        return channel;
    }

    /**
     * The kernel's byte counts for this connection, over its whole life (across the restarts of
     * the processes that owned it).
     *
     * @throws IOException when the descriptor is no TCP socket (a UNIX socket has no such counters)
     */
    public RecoveryFacts facts() throws IOException {
        try {
            return RecoveryFacts.of(fd);
        } catch (PosixException e) {
            throw new IOException("cannot read the TCP counters of " + channel + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies up to {@code length} queued input bytes into {@code buffer} without consuming them
     * ({@code MSG_PEEK}), waiting until at least one has arrived.
     *
     * @return the bytes copied, or -1 at the end of the stream
     */
    public int peek(byte[] buffer, int length) throws IOException {
        return receive(buffer, length, Posix.MSG_PEEK);
    }

    /** Reads (consumes) up to {@code length} bytes, waiting until one has arrived; -1 at the end of the stream. */
    public int read(byte[] buffer, int length) throws IOException {
        return receive(buffer, length, 0);
    }

    /**
     * Consumes exactly {@code count} input bytes, for bytes known to be queued (peeked, or counted
     * by {@link #facts()}).
     *
     * @throws IOException when the stream ends first
     */
    public void skip(long count) throws IOException {
        byte[] scratch = new byte[(int) Math.min(count, 16 * 1024)];
        long left = count;
        while (left > 0) {
            int n = read(scratch, (int) Math.min(scratch.length, left));
            if (n < 0) {
                throw new IOException("end of stream with " + left + " of " + count + " bytes still to skip");
            }
            left -= n;
        }
    }

    /** Writes all of {@code buffer[0..length)}, without {@code SIGPIPE}. */
    public void writeAll(byte[] buffer, int length) throws IOException {
        try {
            Posix.sendAll(fd, buffer, length);
        } catch (PosixException e) {
            throw new IOException("cannot write to " + channel + ": " + e.getMessage(), e);
        }
    }

    private int receive(byte[] buffer, int length, int flags) throws IOException {
        if (length == 0) {
            return 0;
        }
        try {
            int n = Posix.recv(fd, buffer, length, flags);
            return n == 0 ? -1 : n;
        } catch (PosixException e) {
            throw new IOException("cannot read from " + channel + ": " + e.getMessage(), e);
        }
    }
}
