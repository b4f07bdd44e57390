package dev.fabric.escrow.echo;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.HeldConnection;
import dev.fabric.escrow.client.RecoveryFacts;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.client.SlotNotFoundException;
import dev.fabric.escrow.client.TagInfo;
import dev.fabric.escrow.wire.Limits;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The C escrow's echo server, in Java: listens on a TCP port (8087 by default) and echoes every
 * byte back. It keeps its listening socket in the escrow (tag 0, idx 0) and every accepted
 * socket (tag 1, idx = the lowest free index); on start it first gets them back, so after a
 * kill -9 and a restart its clients stay connected and keep echoing.
 * <p>
 * No byte is lost or echoed twice, whenever the kill lands: each chunk is read with
 * {@code MSG_PEEK}, written back, and only then consumed; after a restart the kernel's counters
 * ({@link RecoveryFacts}, through the library's public {@link HeldConnection}) say how many bytes
 * were written but not yet consumed, and exactly those are dropped from the head of the receive queue. (The C escrow's echo server reads, then writes: a kill
 * between the two loses the bytes in between.)
 * <p>
 * One platform thread per client: the echo loop blocks in native {@code recv}, which would pin a
 * virtual thread's carrier.
 */
public final class EchoServer {

    public static final int DEFAULT_PORT = 8087;
    public static final int LISTENER_TAG = 0;
    public static final int CLIENT_TAG = 1;
    public static final int NR_TAGS = 2;
    private static final int CHUNK = 16 * 1024;

    private final Escrow escrow;
    private final int port;
    private final PrintStream log;
    private final BitSet used = new BitSet();
    /** Holds the channels so that the GC never closes a descriptor under its echo thread. */
    private final Map<Integer, Channel> clients = new ConcurrentHashMap<>();
    private volatile ServerSocketChannel listener;

    public EchoServer(Escrow escrow, int port, PrintStream log) {
        this.escrow = escrow;
        this.port = port;
        this.log = log;
    }

    /** Recovers (or opens) the listener and the clients, then accepts forever. */
    public void run() throws IOException {
        listener = recoverOrBindListener();
        recoverClients();
        while (listener.isOpen()) {
            SocketChannel channel = listener.accept();
            int idx = allocate();
            clients.put(idx, channel);
            try {
                escrow.add(CLIENT_TAG, idx, channel, ("client " + idx).getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                log.println("echo-server: cannot put client #" + idx + " in the escrow (" + e.getMessage() + "); serving it anyway");
            }
            log.println("echo-server: client #" + idx + " connected");
            startEcho(idx, channel, false);
        }
    }

    /** The local port the listener is bound to (once {@link #run} has opened or recovered it). */
    public int port() throws IOException {
        ServerSocketChannel l = listener;
        return l == null ? -1 : port(l);
    }

    private ServerSocketChannel recoverOrBindListener() throws IOException {
        try {
            Slot slot = escrow.get(LISTENER_TAG, 0);
            ServerSocketChannel recovered = slot.serverSocketChannel();
            log.println("echo-server: listening on port " + new String(slot.payload(), StandardCharsets.US_ASCII)
                    + " (listener recovered from the escrow)");
            return recovered;
        } catch (SlotNotFoundException e) {
            ServerSocketChannel fresh = ServerSocketChannel.open();
            fresh.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            fresh.bind(new InetSocketAddress(port), 64);
            int bound = port(fresh);
            escrow.add(LISTENER_TAG, 0, fresh, Integer.toString(bound).getBytes(StandardCharsets.US_ASCII));
            log.println("echo-server: listening on port " + bound + " (new listener)");
            return fresh;
        }
    }

    private static int port(ServerSocketChannel channel) throws IOException {
        return channel.getLocalAddress() instanceof InetSocketAddress inet ? inet.getPort() : -1;
    }

    private void recoverClients() throws IOException {
        TagInfo info = escrow.tag(CLIENT_TAG);
        int found = 0;
        for (int idx = 0; found < info.slots() && idx < Limits.MAX_IDX; idx++) {
            Slot slot;
            try {
                slot = escrow.get(CLIENT_TAG, idx);
            } catch (SlotNotFoundException e) {
                continue;
            }
            found++;
            synchronized (used) {
                used.set(idx);
            }
            SocketChannel channel = slot.socketChannel();
            clients.put(idx, channel);
            startEcho(idx, channel, true);
        }
        log.println("echo-server: recovered " + found + " client" + (found == 1 ? "" : "s") + " from the escrow");
    }

    private int allocate() {
        synchronized (used) {
            int idx = used.nextClearBit(0);
            used.set(idx);
            return idx;
        }
    }

    private void release(int idx) {
        synchronized (used) {
            used.clear(idx);
        }
    }

    private void startEcho(int idx, SocketChannel channel, boolean recovered) {
        Thread.ofPlatform().name("echo-" + idx).daemon(false).start(() -> echo(idx, channel, recovered));
    }

    private void echo(int idx, SocketChannel channel, boolean recovered) {
        try {
            HeldConnection connection = HeldConnection.of(channel);
            byte[] buffer = new byte[CHUNK];
            if (recovered) {
                RecoveryFacts facts = connection.facts();
                // An echo sends what it consumes: anything sent beyond that was answered but not yet consumed.
                long alreadyEchoed = facts.bytesSent() - facts.bytesConsumed();
                if (alreadyEchoed < 0) {
                    log.println("echo-server: client #" + idx + " lost " + (-alreadyEchoed) + " bytes (read but never echoed)");
                }
                connection.skip(Math.max(0, alreadyEchoed));
                log.println("echo-server: client #" + idx + " recovered (" + facts.bytesConsumed() + " bytes echoed before, "
                        + Math.max(0, alreadyEchoed) + " echoed but not yet consumed)");
            }
            while (true) {
                int n = connection.peek(buffer, buffer.length);
                if (n < 0) {
                    break;
                }
                connection.writeAll(buffer, n);
                connection.skip(n);
            }
            log.println("echo-server: client #" + idx + " disconnected");
        } catch (IOException | RuntimeException e) {
            log.println("echo-server: client #" + idx + " failed: " + e.getMessage());
        } finally {
            try {
                escrow.del(CLIENT_TAG, idx);
            } catch (IOException e) {
                log.println("echo-server: cannot remove client #" + idx + " from the escrow: " + e.getMessage());
            }
            try {
                channel.close();
            } catch (IOException e) {
                // Our copy only; the peer has already gone.
            }
            clients.remove(idx);
            release(idx);
        }
    }

}
