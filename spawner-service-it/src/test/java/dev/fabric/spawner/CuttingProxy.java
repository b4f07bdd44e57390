package dev.fabric.spawner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of a bridge's relay port, for the tests of a mode 4 bootstrap whose connection
 * drops: it passes every connection through, byte for byte, except that it cuts the first member's
 * circuit ({@code GET /bootstrap/v1/circuit}, the member's half) at a known step of the bootstrap: as
 * soon as the member's side sends {@code marker} (an answer of the member's web server), before those
 * bytes go on. Both of that connection's ends are reset (SO_LINGER 0), as when a NAT forgets a flow;
 * the bridge then ends the circuit's other half, the spawner's. With {@code refuseAfterCut}, every
 * connection opened after the cut is closed at once: the bridge is gone too.
 *
 * <p>The spawner signs its circuit's opening for the authority it dials, and the bridge accepts only its
 * own: so the proxy listens on the bridge's port at another address of this host ({@link #otherAddress}),
 * the bridge's relay port listening on loopback only; both are authorities the bridge receives under.
 */
final class CuttingProxy implements AutoCloseable {

    private static final byte[] MEMBER_HALF = "GET /bootstrap/v1/circuit".getBytes(StandardCharsets.ISO_8859_1);

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final byte[] marker;
    private final boolean refuseAfterCut;
    private final AtomicInteger cuts = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();

    CuttingProxy(InetSocketAddress listen, InetSocketAddress target, String marker, boolean refuseAfterCut) throws IOException {
        this.listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(listen, 50);
        this.target = target;
        this.marker = marker.getBytes(StandardCharsets.ISO_8859_1);
        this.refuseAfterCut = refuseAfterCut;
        Thread.ofVirtual().name("cutting-proxy").start(this::accept);
    }

    /** The URL to give as the member's {@code via}: {@code http://ADDRESS:PORT}. */
    String url() {
        InetAddress address = listener.getInetAddress();
        String host = address.getHostAddress();
        return "http://" + (address instanceof java.net.Inet6Address ? "[" + host.replaceAll("%.*", "") + "]" : host) + ":"
                + listener.getLocalPort();
    }

    /** An address of this host other than 127.0.0.1 that a socket can listen on (IPv4 first, then ::1); empty when none. */
    static java.util.Optional<InetAddress> otherAddress() throws IOException {
        java.util.List<InetAddress> candidates = new java.util.ArrayList<>();
        for (java.net.NetworkInterface network : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            if (network.isUp()) {
                network.inetAddresses().filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress()).forEach(candidates::add);
            }
        }
        candidates.add(InetAddress.getByName("::1"));
        for (InetAddress candidate : candidates) {
            try (ServerSocket probe = new ServerSocket(0, 1, candidate)) {
                return java.util.Optional.of(candidate);
            } catch (IOException unusable) {
                // the next
            }
        }
        return java.util.Optional.empty();
    }

    /** How many connections it cut at the marker. */
    int cuts() {
        return cuts.get();
    }

    /** How many connections it closed at once after the cut. */
    int refused() {
        return refused.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            if (refuseAfterCut && cuts.get() > 0) {
                refused.incrementAndGet();
                reset(client);
                continue;
            }
            Thread.ofVirtual().name("cutting-proxy-connection").start(() -> carry(client));
        }
    }

    private void carry(Socket client) {
        Socket server = new Socket();
        try {
            server.connect(target, 5000);
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
        } catch (IOException e) {
            reset(client);
            reset(server);
            return;
        }
        Thread.ofVirtual().name("cutting-proxy-back").start(() -> pump(server, client, false, client, server));
        pump(client, server, true, client, server);
    }

    /** Copies {@code from} to {@code to}; from the client, watches a member's half for the marker and cuts there, once. */
    private void pump(Socket from, Socket to, boolean fromClient, Socket client, Socket server) {
        byte[] buffer = new byte[64 * 1024];
        byte[] seen = new byte[0];
        boolean memberHalf = false;
        boolean first = true;
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (fromClient) {
                    if (first) {
                        memberHalf = startsWith(buffer, n, MEMBER_HALF);
                        first = false;
                    } else if (memberHalf) {
                        // The last bytes before this read, and this read: a marker split across two reads is seen too.
                        byte[] window = new byte[seen.length + n];
                        System.arraycopy(seen, 0, window, 0, seen.length);
                        System.arraycopy(buffer, 0, window, seen.length, n);
                        if (indexOf(window, marker) >= 0 && cuts.compareAndSet(0, 1)) {
                            reset(client);
                            reset(server);
                            return;
                        }
                        seen = Arrays.copyOfRange(window, Math.max(0, window.length - marker.length + 1), window.length);
                    }
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the other direction ended it, or the cut
        }
        close(client);
        close(server);
    }

    private static boolean startsWith(byte[] buffer, int n, byte[] prefix) {
        return n >= prefix.length && Arrays.equals(buffer, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Closes with a reset, not a FIN: as a NAT that forgot the flow answers the next segment. */
    private static void reset(Socket socket) {
        try {
            if (!socket.isClosed()) {
                socket.setSoLinger(true, 0);
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        close(socket);
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
