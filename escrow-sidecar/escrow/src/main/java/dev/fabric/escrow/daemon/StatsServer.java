package dev.fabric.escrow.daemon;

import dev.fabric.escrow.stats.StatsFormat;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * The read-only stats socket ({@code <path>.stats}): its own socket rather than an extra opcode,
 * because the escrow socket serves one session at a time and an operator must be able to look
 * while a service holds that session. Same 0600 mode and peer-credential check; each connection
 * sends one request line ({@code STATS} or {@code SLOTS}), gets the text and is closed; any other
 * line gets one error line ({@link StatsFormat#unknownRequest}).
 * <p>
 * At most {@value #MAX_CONCURRENT} connections are served at once, each for at most
 * {@value #REQUEST_TIMEOUT_MILLIS} ms; one more is closed at once: connections that send nothing
 * must not make the daemon grow a thread each (issue 12 item 11, memory bounded).
 */
final class StatsServer {

    private static final Logger LOG = LoggerFactory.getLogger(StatsServer.class);
    private static final int REQUEST_TIMEOUT_MILLIS = 2_000;
    static final int MAX_CONCURRENT = 4;

    private final SocketFile socketFile;
    private final PeerPolicy peers;
    private final Function<Boolean, String> render;
    private final Counters counters;
    private final Thread acceptor;
    private final Semaphore serving = new Semaphore(MAX_CONCURRENT);

    StatsServer(SocketFile socketFile, PeerPolicy peers, Function<Boolean, String> render, Counters counters) {
        this.socketFile = socketFile;
        this.peers = peers;
        this.render = render;
        this.counters = counters;
        // Platform threads: see the note on threads in Escrowd.
        this.acceptor = Thread.ofPlatform().name("escrowd-stats-acceptor").daemon(true).unstarted(this::acceptLoop);
    }

    void start() {
        acceptor.start();
    }

    void close() {
        socketFile.close();
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!socketFile.server().isClosed()) {
            try {
                AFUNIXSocket socket = socketFile.server().accept();
                if (!serving.tryAcquire()) {
                    LOG.debug("stats connection closed: {} already being served", MAX_CONCURRENT);
                    socket.close();
                    continue;
                }
                try {
                    Thread.ofPlatform().name("escrowd-stats").daemon(true).start(() -> {
                        try {
                            serve(socket);
                        } finally {
                            serving.release();
                        }
                    });
                } catch (RuntimeException | OutOfMemoryError e) {
                    serving.release();
                    socket.close();
                    LOG.warn("cannot serve a stats connection: {}", e.toString());
                }
            } catch (IOException e) {
                if (socketFile.server().isClosed()) {
                    return;
                }
                LOG.debug("stats accept failed: {}", e.toString());
            } catch (RuntimeException | Error e) {
                // As the escrow acceptor: one failed connection must not end the stats view.
                LOG.warn("stats connection failed: {}", e.toString());
            }
        }
    }

    private void serve(AFUNIXSocket socket) {
        try (socket) {
            AFUNIXSocketCredentials peer = socket.getPeerCredentials();
            if (!peers.allows(peer.getUid(), peer.getGid())) {
                counters.count(Rejection.PEER_REFUSED);
                LOG.warn("refused a stats peer: uid {} gid {} pid {} is not allowed ({})", peer.getUid(), peer.getGid(), peer.getPid(), peers);
                return;
            }
            socket.setSoTimeout(REQUEST_TIMEOUT_MILLIS);
            String request = readLine(socket.getInputStream()).strip();
            String answer;
            if (request.equalsIgnoreCase(StatsFormat.REQUEST_STATS)) {
                answer = render.apply(false);
            } else if (request.equalsIgnoreCase(StatsFormat.REQUEST_SLOTS)) {
                answer = render.apply(true);
            } else {
                answer = StatsFormat.unknownRequest(request);
            }
            socket.getOutputStream().write(answer.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.debug("stats request failed: {}", e.toString());
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n' && line.size() < 64) {
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
