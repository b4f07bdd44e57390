package dev.fabric.spawner.role.bridge;

import dev.fabric.spawner.reach.Circuit;
import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.WebConnection;
import org.apache.coyote.http11.upgrade.InternalHttpUpgradeHandler;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.SSLSupport;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Circuits: the relay mode 4 falls back to when a splice fails (docs/connectivity.md). The two sides
 * of a rendezvous each open a connection to this bridge's relay port and turn it into a plain byte
 * stream with an HTTP/1.1 upgrade ({@code Upgrade: }{@value Circuit#UPGRADE}): the spawner at
 * {@value Circuit#INITIATOR_PATH} (signed with the fabric key), the member at {@value Circuit#PEER_PATH}
 * (before it holds keys), both naming the rendezvous. The bridge pairs them, writes
 * {@value Circuit#PAIRED} and a newline to both, and from then on copies the bytes of each to the
 * other, unread, in {@link Circuit#CHUNK} pieces (a direct buffer, read into and written from by
 * Tomcat without a copy of its own), one thread per direction with blocking reads and writes: a slow
 * side stops its sender through TCP's own window, nothing is buffered beyond one piece. What crosses is the two sides' own HTTP, authenticated end to end as over a splice; the
 * bridge adds no trust.
 *
 * <p>Limits (the bridge's settings): circuits count against {@code max-circuits} with the relayed
 * exchanges, a circuit carries at most {@code max-circuit-bytes} both ways together, lives at most
 * {@code max-circuit-duration}, and a half waits for its other half at most {@code idle-timeout}
 * (it is then told {@code unpaired: REASON}). A circuit ended at a limit is closed on both sides.
 */
// Not a REST operation but the opening of a byte stream, like the WebSocket endpoints: out of the
// OpenAPI documents, described in docs/connectivity.md.
@Hidden
@RestController
@Profile("member")
public class BridgeCircuits {

    private static final Logger log = LoggerFactory.getLogger(BridgeCircuits.class);

    private final BridgeRole role;
    private final Map<String, Half> waiting = new HashMap<>();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("bridge-circuits").factory());

    /** One side's upgraded connection (once the container handed it over), and the circuit it belongs to. */
    static final class Half {
        final String rendezvous;
        final boolean initiator;
        final CompletableFuture<SocketWrapperBase<?>> connection = new CompletableFuture<>();

        Half(String rendezvous, boolean initiator) {
            this.rendezvous = rendezvous;
            this.initiator = initiator;
        }

        String side() {
            return initiator ? "initiator" : "peer";
        }
    }

    /** Two paired halves, their bytes so far, and whether the circuit's permit was given back. */
    record Pair(Half initiator, Half peer, AtomicLong bytes, AtomicBoolean released) {
        Half other(Half one) {
            return one == initiator ? peer : initiator;
        }
    }

    /**
     * The container's side of an upgraded connection: hands its socket to its half. Tomcat's own
     * upgrade interface (its WebSockets use it) rather than the servlet API's: a servlet's upgraded
     * connection in blocking mode cannot be closed from another thread (Tomcat closes it only when it
     * next dispatches an event for it), and a circuit must close one side when the other ends. With
     * {@link #hasAsyncIO()} Tomcat leaves all reading and writing to the circuit's threads.
     */
    public static final class Upgraded implements InternalHttpUpgradeHandler {
        private volatile Half half;
        private volatile SocketWrapperBase<?> socket;

        @Override
        public void setSocketWrapper(SocketWrapperBase<?> wrapper) {
            this.socket = wrapper;
        }

        @Override
        public void init(WebConnection connection) {
            half.connection.complete(socket);
        }

        @Override
        public boolean hasAsyncIO() {
            return true;
        }

        @Override
        public SocketState upgradeDispatch(SocketEvent status) {
            return switch (status) {
                case OPEN_READ, OPEN_WRITE -> SocketState.UPGRADED;
                default -> SocketState.CLOSED;
            };
        }

        @Override
        public void timeoutAsync(long now) {
            // no asynchronous operations of its own
        }

        @Override
        public void setSslSupport(SSLSupport sslSupport) {
            // plain TCP
        }

        @Override
        public void pause() {
            // nothing to pause: the circuit's threads block in reads and writes
        }

        @Override
        public void destroy() {
            // the circuit's end closes the connection
        }
    }

    public BridgeCircuits(BridgeRole role) {
        this.role = role;
    }

    @GetMapping(path = {Circuit.INITIATOR_PATH, Circuit.PEER_PATH}, headers = "Upgrade=" + Circuit.UPGRADE)
    public ResponseEntity<ProblemDetail> open(@RequestParam(name = "rendezvous", required = false) String rendezvous,
                                              HttpServletRequest request, HttpServletResponse response)
            throws IOException, jakarta.servlet.ServletException {
        BridgeRole.Running bridge = role.running();
        if (bridge == null || request.getLocalPort() != bridge.port()) {
            return problem(HttpStatus.NOT_FOUND, "bridge-not-started", "circuits are opened at a bridge's relay port; this is none");
        }
        if (rendezvous == null || !rendezvous.matches(Circuit.RENDEZVOUS_PATTERN)) {
            return problem(HttpStatus.BAD_REQUEST, "bad-rendezvous", "a circuit names ?rendezvous=ID (" + Circuit.RENDEZVOUS_PATTERN + ")");
        }
        boolean initiator = Circuit.INITIATOR_PATH.equals(request.getRequestURI());
        Half half = new Half(rendezvous, initiator);
        Pair pair = null;
        synchronized (waiting) {
            Half other = waiting.get(rendezvous);
            if (other != null && other.initiator == initiator) {
                role.refused("circuit-side-taken");
                return problem(HttpStatus.CONFLICT, "circuit-side-taken", "the " + half.side() + " of rendezvous " + rendezvous
                        + " is already here");
            }
            if (other == null) {
                if (!bridge.circuits().tryAcquire()) {
                    role.refused("circuits");
                    return problem(HttpStatus.SERVICE_UNAVAILABLE, "bridge-full", bridge.settings().maxCircuits()
                            + " circuits and exchanges (" + BridgeSettings.MAX_CIRCUITS + ")");
                }
                waiting.put(rendezvous, half);
                Duration wait = bridge.settings().idleTimeout();
                timers.schedule(() -> unpaired(half, wait), wait.toMillis(), TimeUnit.MILLISECONDS);
                log.info("circuit {}: {} waiting for its other half", rendezvous, half.side());
            } else {
                waiting.remove(rendezvous);
                pair = initiator ? new Pair(half, other, new AtomicLong(), new AtomicBoolean())
                        : new Pair(other, half, new AtomicLong(), new AtomicBoolean());
            }
        }
        request.upgrade(Upgraded.class).half = half;
        response.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
        response.setHeader("Upgrade", Circuit.UPGRADE);
        response.setHeader("Connection", "Upgrade");
        if (pair != null) {
            Pair paired = pair;
            Thread.ofVirtual().name("circuit-" + rendezvous).start(() -> relay(paired, bridge));
        }
        return null;
    }

    /** Once both halves are connections: says {@value Circuit#PAIRED} to both and copies both ways until one ends. */
    private void relay(Pair pair, BridgeRole.Running bridge) {
        SocketWrapperBase<?> initiator;
        SocketWrapperBase<?> peer;
        try {
            initiator = pair.initiator().connection.get(30, TimeUnit.SECONDS);
            peer = pair.peer().connection.get(30, TimeUnit.SECONDS);
            // No read timeout (a circuit may be quiet; it lives at most max-circuit-duration); a side that
            // does not take its bytes for idle-timeout ends the circuit.
            for (SocketWrapperBase<?> side : List.of(initiator, peer)) {
                side.setReadTimeout(-1);
                side.setWriteTimeout(bridge.settings().idleTimeout().toMillis());
            }
            // The peer first: the initiator speaks first, and its bytes must not overtake the peer's "paired".
            say(peer, Circuit.PAIRED);
            say(initiator, Circuit.PAIRED);
        } catch (Exception e) {
            log.warn("circuit {}: not paired ({})", pair.initiator().rendezvous, e.toString());
            end(pair, null, null);
            return;
        }
        role.meters().counter(BridgeRole.CIRCUITS_OPENED_METRIC).increment();
        Duration longest = bridge.settings().maxCircuitDuration();
        timers.schedule(() -> end(pair, "circuit-duration: over " + BridgeSettings.MAX_CIRCUIT_DURATION + " (" + longest + ")", "duration"),
                longest.toMillis(), TimeUnit.MILLISECONDS);
        log.info("circuit {}: paired; relaying", pair.initiator().rendezvous);
        Thread.ofVirtual().name("circuit-" + pair.initiator().rendezvous + "-back").start(() -> copy(pair, pair.peer(), peer, initiator, bridge));
        copy(pair, pair.initiator(), initiator, peer, bridge);
    }

    /** From one half to the other, counting against the circuit's bytes, until either side ends. */
    private void copy(Pair pair, Half from, SocketWrapperBase<?> source, SocketWrapperBase<?> target, BridgeRole.Running bridge) {
        var relayed = role.meters().counter(BridgeRole.BYTES_METRIC, "direction", from.initiator ? "circuit-to-peer" : "circuit-to-initiator");
        long max = bridge.settings().maxCircuitBytes();
        // Direct, and read and written as a ByteBuffer: Tomcat then reads into it and writes from it without its own
        // buffers in between (with a byte[] every piece was copied through its 8 KiB read and write buffers, and through
        // the JDK's temporary direct buffer both ways), in slices of the relay connector's buffer size (BridgeRole).
        ByteBuffer buffer = ByteBuffer.allocateDirect(Circuit.CHUNK);
        try {
            int n;
            while ((n = source.read(true, buffer)) >= 0) {
                if (pair.bytes().addAndGet(n) > max) {
                    end(pair, "circuit-bytes: over " + BridgeSettings.MAX_CIRCUIT_BYTES + " (" + max + " bytes)", "bytes");
                    return;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    target.write(true, buffer);
                }
                target.flush(true);
                buffer.clear();
                relayed.increment(n);
            }
            end(pair, null, null);
        } catch (IOException | RuntimeException e) {
            log.debug("circuit {}: the {} side ended ({})", from.rendezvous, from.side(), e.toString());
            end(pair, null, null);
        }
    }

    private void unpaired(Half half, Duration wait) {
        synchronized (waiting) {
            if (!waiting.remove(half.rendezvous, half)) {
                return;
            }
        }
        release();
        role.refused("circuit-unpaired");
        half.connection.thenAccept(connection -> {
            try {
                say(connection, "unpaired: no other half within " + wait);
            } catch (IOException | RuntimeException ignored) {
                // gone already
            } finally {
                connection.close();
            }
        });
    }

    private void end(Pair pair, String reason, String refusal) {
        if (!pair.released().compareAndSet(false, true)) {
            return;
        }
        release();
        if (refusal != null) {
            role.refused(refusal);
            log.warn("circuit {}: ended at a limit ({})", pair.initiator().rendezvous, reason);
        }
        closeQuietly(pair.initiator());
        closeQuietly(pair.peer());
    }

    private void release() {
        BridgeRole.Running bridge = role.running();
        if (bridge != null) {
            bridge.circuits().release();
        }
    }

    private static void say(SocketWrapperBase<?> connection, String line) throws IOException {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        connection.write(true, bytes, 0, bytes.length);
        connection.flush(true);
    }

    private static void closeQuietly(Half half) {
        SocketWrapperBase<?> connection = half.connection.getNow(null);
        if (connection != null) {
            connection.close();
        }
    }

    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String reason, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, reason + ": " + detail);
        problem.setType(URI.create("urn:fabric:bridge:" + reason));
        problem.setProperty("reason", reason);
        return ResponseEntity.status(status).body(problem);
    }
}
