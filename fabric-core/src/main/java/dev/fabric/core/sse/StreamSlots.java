package dev.fabric.core.sse;

import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The places of a server's long-lived streams (server-sent events), at most {@code max} at once,
 * with a closed stream's place given back as soon as a new stream needs it.
 *
 * <p>Why probing: the web server does not read the socket of a request whose answer is a stream
 * (Tomcat watches an async request's socket for nothing), so a client that hangs up is noticed only
 * when the server next writes to its stream, at the latest at the stream's keep-alive. A client
 * that reconnects at once, as the SSE standard and the docs tell it to, would find its old place
 * still taken. So when every place is taken, {@link #take()} writes a probe (an SSE comment, which
 * clients ignore) to every stream: a stream whose client left fails the write and gives its place
 * back. The first write to a connection the client closed usually succeeds (it only makes the
 * client's side answer with a reset), so the probes are repeated every {@link #PROBE_INTERVAL}
 * until a place is free or {@code patience} has passed; only then is the new stream refused.
 * A client that vanished without closing (its host died, the network was cut) is not noticed this
 * way: its stream keeps its place until TCP gives up on it.
 *
 * <p>Replacing the stream of "the same client" instead (by its {@code Last-Event-ID}) is not done:
 * every fabric client signs with the same fabric key, and two live subscribers may resume from the
 * same event, so it would cut off live streams.
 *
 * <p>Probes are written on a thread of their own, one at a time per stream, so a client that reads
 * slowly never holds up a new stream nor gathers probe writes.
 */
public final class StreamSlots {

    /** How often the streams are probed while a new stream waits for a place. */
    public static final Duration PROBE_INTERVAL = Duration.ofMillis(100);
    /** The comment a probe writes. */
    static final String PROBE_COMMENT = "probe";

    private final int max;
    private final Duration patience;
    private final Semaphore free;
    private final Set<Slot> taken = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastProbe = new AtomicLong(System.nanoTime() - PROBE_INTERVAL.toNanos());

    /**
     * @param max      the most streams served at once
     * @param patience how long a new stream may wait, while the streams are probed, before it is refused
     */
    public StreamSlots(int max, Duration patience) {
        if (max < 1) {
            throw new IllegalArgumentException("a server serves at least one stream, not " + max);
        }
        this.max = max;
        this.patience = patience;
        this.free = new Semaphore(max);
    }

    /**
     * A place for a new stream: at once while one is free, else once a probe finds a stream whose
     * client left, or nothing after {@code patience}: every stream is alive, refuse the new one
     * (with a {@code Retry-After}: places free up by themselves).
     */
    public Optional<Slot> take() throws InterruptedException {
        if (free.tryAcquire()) {
            return Optional.of(taken());
        }
        long deadline = System.nanoTime() + patience.toNanos();
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            probeAll();
            if (free.tryAcquire(Math.min(left, PROBE_INTERVAL.toNanos()), TimeUnit.NANOSECONDS)) {
                return Optional.of(taken());
            }
        }
        return Optional.empty();
    }

    /** The most streams served at once. */
    public int max() {
        return max;
    }

    /** How many places are taken: streams served, apart from those found gone. */
    public int inUse() {
        return taken.size();
    }

    /** Ends every stream (the server stops): each slot is closed and its stream woken. */
    public void closeAll() {
        taken.forEach(Slot::close);
    }

    private Slot taken() {
        Slot slot = new Slot();
        taken.add(slot);
        return slot;
    }

    /** Many new streams waiting at once probe together: at most one round of probes per interval. */
    private void probeAll() {
        long now = System.nanoTime();
        long last = lastProbe.get();
        if (now - last < PROBE_INTERVAL.toNanos() || !lastProbe.compareAndSet(last, now)) {
            return;
        }
        taken.forEach(Slot::probe);
    }

    /** What writes a probe to a stream; throwing says its client is gone. */
    @FunctionalInterface
    public interface Probe {
        void write() throws IOException;
    }

    /** One stream's place: given back once, by {@link #close()}, whoever notices the end first. */
    public final class Slot implements AutoCloseable {

        private final AtomicBoolean open = new AtomicBoolean(true);
        private final AtomicBoolean probing = new AtomicBoolean();
        private volatile Probe probe;
        private volatile Runnable wake = () -> { };

        private Slot() {
        }

        /**
         * Serves {@code emitter} in this place: the place is given back when the web server ends the
         * request (the client's connection failed, it completed, it timed out) and when a probe
         * cannot be written; then {@code wake} is run, to end the stream's own thread early (it may
         * do nothing: the thread then ends at its next write).
         */
        public void serve(SseEmitter emitter, Runnable wake) {
            serve(() -> emitter.send(SseEmitter.event().comment(PROBE_COMMENT)), wake);
            emitter.onCompletion(this::close);
            emitter.onTimeout(this::close);
            emitter.onError(error -> close());
        }

        /** {@link #serve(SseEmitter, Runnable)} with any way of writing a probe. */
        public void serve(Probe probe, Runnable wake) {
            this.wake = wake;
            this.probe = probe;
            if (!open.get()) {
                wake.run();
            }
        }

        /** Whether the stream still holds its place; its thread ends when it does not. */
        public boolean isOpen() {
            return open.get();
        }

        /** Gives the place back (once, however often called) and wakes the stream's thread. */
        @Override
        public void close() {
            if (open.compareAndSet(true, false)) {
                taken.remove(this);
                free.release();
                wake.run();
            }
        }

        private void probe() {
            Probe writer = probe;
            if (writer == null || !open.get() || !probing.compareAndSet(false, true)) {
                return;
            }
            Thread.ofVirtual().name("stream-probe").start(() -> {
                try {
                    writer.write();
                } catch (IOException | RuntimeException gone) {
                    // Nothing can be written to it: whatever the reason, it is no stream any more.
                    close();
                } finally {
                    probing.set(false);
                }
            });
        }
    }
}
