package dev.fabric.escrow.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A real loopback TCP connection: the client end, the accepted end, and the listener. */
public final class TcpPair implements AutoCloseable {

    public final ServerSocketChannel listener;
    public final SocketChannel client;
    public final SocketChannel accepted;

    private TcpPair(ServerSocketChannel listener, SocketChannel client, SocketChannel accepted) {
        this.listener = listener;
        this.client = client;
        this.accepted = accepted;
    }

    public static TcpPair open() throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel client = SocketChannel.open(listener.getLocalAddress());
        SocketChannel accepted = listener.accept();
        return new TcpPair(listener, client, accepted);
    }

    /** Writes {@code text} on {@code from} and asserts that {@code to} reads exactly it. */
    public static void assertTalks(SocketChannel from, SocketChannel to, String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            from.write(out);
        }
        ByteBuffer in = ByteBuffer.allocate(text.length());
        while (in.hasRemaining()) {
            assertThat(to.read(in)).as("connection still open").isGreaterThanOrEqualTo(0);
        }
        assertThat(new String(in.array(), StandardCharsets.UTF_8)).isEqualTo(text);
    }

    /** True when {@code channel} (a JDK channel, blocking) reads end of stream within {@code timeout}. */
    public static boolean seesEof(SocketChannel channel, Duration timeout) throws IOException {
        channel.socket().setSoTimeout((int) timeout.toMillis());
        InputStream in = channel.socket().getInputStream();
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: gone as well
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
        accepted.close();
        listener.close();
    }
}
