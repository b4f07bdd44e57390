package dev.fabric.spawner.role.bridge;

import dev.fabric.spawner.reach.Circuit;
import dev.fabric.spawner.reach.ReverseChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.BinaryWebSocketHandler;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.util.UriComponentsBuilder;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Circuits: the relay mode 4 falls back to when a splice fails (docs/connectivity.md). The two sides
 * of a rendezvous each open a WebSocket to this bridge's relay port, the spawner ({@value Circuit#INITIATOR_PATH},
 * signed with the fabric key) and the member ({@value Circuit#PEER_PATH}, before it holds keys), both
 * naming the rendezvous; the bridge pairs them, tells both {@value Circuit#PAIRED}, and from then on
 * passes every binary message of one to the other, unread. What crosses is the two sides' own HTTP,
 * authenticated end to end as over a splice (the member proves its one-time password, the spawner's
 * requests are signed for the member); the bridge adds no trust.
 *
 * <p>Limits (the bridge's settings): circuits count against {@code max-circuits} with the relayed
 * exchanges, a circuit carries at most {@code max-circuit-bytes} both ways together, lives at most
 * {@code max-circuit-duration}, and a half waits for its other half at most {@code idle-timeout}.
 */
@Component
@Profile("member")
public class BridgeCircuits extends BinaryWebSocketHandler {

    private static final Logger log = LoggerFactory.getLogger(BridgeCircuits.class);
    private static final String HALF = "fabric.circuit";

    private final BridgeRole role;
    private final Map<String, Half> waiting = new HashMap<>();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("bridge-circuits").factory());
    private final AtomicLong opened = new AtomicLong();

    /** One side's WebSocket, and once paired the circuit it belongs to. */
    static final class Half {
        final String rendezvous;
        final boolean initiator;
        final WebSocketSession session;
        volatile Pair pair;

        Half(String rendezvous, boolean initiator, WebSocketSession session) {
            this.rendezvous = rendezvous;
            this.initiator = initiator;
            this.session = session;
        }
    }

    /** Two paired halves, their bytes so far, and whether the circuit's permit was given back. */
    record Pair(Half initiator, Half peer, AtomicLong bytes, AtomicBoolean released) {
        Half other(Half one) {
            return one == initiator ? peer : initiator;
        }
    }

    public BridgeCircuits(BridgeRole role) {
        this.role = role;
    }

    @Override
    public boolean supportsPartialMessages() {
        return true;
    }

    @Override
    public void afterConnectionEstablished(WebSocketSession raw) throws IOException {
        BridgeRole.Running bridge = role.running();
        if (bridge == null) {
            raw.close(new CloseStatus(ReverseChannel.REFUSED, "bridge-not-started: this member runs no bridge"));
            return;
        }
        String rendezvous = UriComponentsBuilder.fromUri(raw.getUri()).build().getQueryParams().getFirst("rendezvous");
        if (rendezvous == null || !rendezvous.matches(Circuit.RENDEZVOUS_PATTERN)) {
            raw.close(CloseStatus.POLICY_VIOLATION.withReason("a circuit names ?rendezvous=ID"));
            return;
        }
        boolean initiator = Circuit.INITIATOR_PATH.equals(raw.getUri().getPath());
        WebSocketSession session = new ConcurrentWebSocketSessionDecorator(raw, (int) bridge.settings().idleTimeout().toMillis(),
                4 * 1024 * 1024);
        Half half = new Half(rendezvous, initiator, session);
        raw.getAttributes().put(HALF, half);
        Half other;
        synchronized (waiting) {
            other = waiting.get(rendezvous);
            if (other != null && other.initiator == initiator) {
                role.refused("circuit-side-taken");
                raw.close(CloseStatus.POLICY_VIOLATION.withReason("circuit-side-taken: the " + (initiator ? "initiator" : "peer")
                        + " of rendezvous " + rendezvous + " is already here"));
                return;
            }
            if (other == null) {
                if (!bridge.circuits().tryAcquire()) {
                    role.refused("circuits");
                    raw.close(new CloseStatus(ReverseChannel.REFUSED, "bridge-full: " + bridge.settings().maxCircuits()
                            + " circuits and exchanges (" + BridgeSettings.MAX_CIRCUITS + ")"));
                    return;
                }
                waiting.put(rendezvous, half);
                Duration wait = bridge.settings().idleTimeout();
                timers.schedule(() -> unpaired(half, wait), wait.toMillis(), TimeUnit.MILLISECONDS);
                log.info("circuit {}: {} waiting for its other half", rendezvous, initiator ? "initiator" : "peer");
                return;
            }
            waiting.remove(rendezvous);
        }
        Pair pair = initiator ? new Pair(half, other, new AtomicLong(), new AtomicBoolean())
                : new Pair(other, half, new AtomicLong(), new AtomicBoolean());
        half.pair = pair;
        other.pair = pair;
        opened.incrementAndGet();
        role.meters().counter(BridgeRole.CIRCUITS_OPENED_METRIC).increment();
        Duration longest = bridge.settings().maxCircuitDuration();
        timers.schedule(() -> end(pair, CloseStatus.POLICY_VIOLATION.withReason("circuit-duration: over "
                + BridgeSettings.MAX_CIRCUIT_DURATION + " (" + longest + ")"), "duration"), longest.toMillis(), TimeUnit.MILLISECONDS);
        // The peer first: the initiator speaks first, and its bytes must not overtake the peer's "paired".
        pair.peer().session.sendMessage(new TextMessage(Circuit.PAIRED));
        pair.initiator().session.sendMessage(new TextMessage(Circuit.PAIRED));
        log.info("circuit {}: paired; relaying", rendezvous);
    }

    @Override
    protected void handleBinaryMessage(WebSocketSession raw, BinaryMessage message) throws IOException {
        Half half = (Half) raw.getAttributes().get(HALF);
        Pair pair = half == null ? null : half.pair;
        BridgeRole.Running bridge = role.running();
        if (pair == null || bridge == null) {
            raw.close(CloseStatus.POLICY_VIOLATION.withReason("circuit-not-paired: nothing may cross before " + Circuit.PAIRED));
            return;
        }
        int length = message.getPayloadLength();
        if (pair.bytes().addAndGet(length) > bridge.settings().maxCircuitBytes()) {
            end(pair, CloseStatus.POLICY_VIOLATION.withReason("circuit-bytes: over " + BridgeSettings.MAX_CIRCUIT_BYTES + " ("
                    + bridge.settings().maxCircuitBytes() + " bytes)"), "bytes");
            return;
        }
        role.meters().counter(BridgeRole.BYTES_METRIC, "direction", half.initiator ? "circuit-to-peer" : "circuit-to-initiator")
                .increment(length);
        pair.other(half).session.sendMessage(new BinaryMessage(message.getPayload(), message.isLast()));
    }

    @Override
    public void afterConnectionClosed(WebSocketSession raw, CloseStatus status) {
        Half half = (Half) raw.getAttributes().get(HALF);
        if (half == null) {
            return;
        }
        Pair pair = half.pair;
        if (pair == null) {
            synchronized (waiting) {
                if (waiting.remove(half.rendezvous, half)) {
                    release();
                }
            }
            return;
        }
        end(pair, status.equals(CloseStatus.NORMAL) ? CloseStatus.NORMAL : CloseStatus.GOING_AWAY.withReason("the other half closed"), null);
    }

    /** Circuits paired since the bridge started (for its status). */
    long opened() {
        return opened.get();
    }

    private void unpaired(Half half, Duration wait) {
        synchronized (waiting) {
            if (!waiting.remove(half.rendezvous, half)) {
                return;
            }
        }
        release();
        role.refused("circuit-unpaired");
        closeQuietly(half.session, CloseStatus.POLICY_VIOLATION.withReason("circuit-unpaired: no other half within " + wait));
    }

    private void end(Pair pair, CloseStatus status, String refusal) {
        if (!pair.released().compareAndSet(false, true)) {
            return;
        }
        release();
        if (refusal != null) {
            role.refused(refusal);
            log.warn("circuit {}: ended at a limit ({})", pair.initiator().rendezvous, status.getReason());
        }
        closeQuietly(pair.initiator().session, status);
        closeQuietly(pair.peer().session, status);
    }

    private void release() {
        BridgeRole.Running bridge = role.running();
        if (bridge != null) {
            bridge.circuits().release();
        }
    }

    private static void closeQuietly(WebSocketSession session, CloseStatus status) {
        try {
            if (session.isOpen()) {
                session.close(status);
            }
        } catch (IOException | RuntimeException ignored) {
            // closing anyway
        }
    }

}
