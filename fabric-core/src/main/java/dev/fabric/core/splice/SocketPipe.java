package dev.fabric.core.splice;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Joins one TCP connection to another, byte for byte, both ways: how a spliced connection (or a
 * circuit through a bridge) carries the fabric's ordinary HTTP (docs/connectivity.md, mode 4).
 *
 * <ul>
 *   <li>The side that serves (a member) {@link #join joins} it to a connection to its own web
 *       server: its management API answers over it exactly as over a direct connection.</li>
 *   <li>The side that asks (a spawner) {@link #forward forwards} a loopback port to it and points its
 *       ordinary HTTP client at that port as at an HTTP proxy: requests keep their absolute targets, the
 *       member's own URL, so their signatures verify as on any other path (the bridge's relay does the same).</li>
 * </ul>
 *
 * Either end closing closes both, and {@link Joined#closed()} completes.
 */
public final class SocketPipe {

    private static final Logger log = LoggerFactory.getLogger("fabric.splice");
    private static final int BUFFER = 64 * 1024;

    private SocketPipe() {
    }

    /** Two joined connections: bytes carried each way; completes once both directions ended. */
    public record Joined(AtomicLong bytesOut, AtomicLong bytesIn, CompletableFuture<Void> closed) {}

    /**
     * Pumps {@code a} into {@code b} and {@code b} into {@code a} on two virtual threads, until either
     * ends; then closes both.
     */
    public static Joined join(Socket a, Socket b) {
        AtomicLong ab = new AtomicLong();
        AtomicLong ba = new AtomicLong();
        CompletableFuture<Void> one = pump(a, b, ab);
        CompletableFuture<Void> other = pump(b, a, ba);
        CompletableFuture<Void> both = CompletableFuture.allOf(one, other);
        CompletableFuture.anyOf(one, other).whenComplete((r, e) -> {
            closeQuietly(a);
            closeQuietly(b);
        });
        return new Joined(ab, ba, both);
    }

    /**
     * A loopback port whose first connection is joined to {@code remote}; the port closes after that
     * one (a later connection is refused, as the remote connection is single).
     *
     * @return the loopback address to send requests to, as to an HTTP proxy
     */
    public static Forwarded forward(Socket remote) throws IOException {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Joined> joined = new CompletableFuture<>();
        Thread.ofVirtual().name("splice-forward").start(() -> {
            try (listener) {
                Socket local = listener.accept();
                joined.complete(join(local, remote));
            } catch (IOException e) {
                joined.completeExceptionally(e);
                closeQuietly(remote);
            }
        });
        return new Forwarded((InetSocketAddress) listener.getLocalSocketAddress(), listener, remote, joined);
    }

    /** A loopback port forwarded to one remote connection ({@link #forward}). */
    public record Forwarded(InetSocketAddress proxy, ServerSocket listener, Socket remote, CompletableFuture<Joined> joined)
            implements AutoCloseable {

        /** Closes the port and the remote connection (and so the joined local one). */
        @Override
        public void close() {
            closeQuietly(listener);
            closeQuietly(remote);
        }
    }

    private static CompletableFuture<Void> pump(Socket from, Socket to, AtomicLong counter) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual().name("splice-pump").start(() -> {
            byte[] buffer = new byte[BUFFER];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                    counter.addAndGet(n);
                }
            } catch (IOException e) {
                log.debug("pipe {} -> {} ended: {}", from.getRemoteSocketAddress(), to.getRemoteSocketAddress(), e.getMessage());
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
