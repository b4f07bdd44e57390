package dev.fabric.core.client;

import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.sse.ServerSentEvent;
import dev.fabric.core.sse.SseDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import tools.jackson.core.JacksonException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A topic followed over a stream of server-sent events ({@link PubSub#subscribe}): it resumes after
 * the last offset it handed over whenever the stream breaks, until it is closed (by itself, or with
 * its {@link FabricClient}) or ends on its own (see {@link Subscriber#onEnd}). Thread-safe.
 */
public final class Subscription implements AutoCloseable {

    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    /** How long one poll waits for a message (well within a bridge's idle timeout, 60 s by default). */
    private static final Duration POLL_WAIT = Duration.ofSeconds(20);

    /** Waits between reconnections after failures in a row; the last one repeats. */
    private static final long[] BACKOFF_MILLIS = {100, 250, 500, 1000, 2000, 5000};

    private static final Logger log = LoggerFactory.getLogger(Subscription.class);

    private final PubSub pubsub;
    private final String topic;
    private final Duration idleTimeout;
    private final Subscriber subscriber;
    /** Polls the JSON fetch instead of holding a stream (a member reached through a bridge, which relays whole answers). */
    private final boolean polling;
    private final CountDownLatch ended = new CountDownLatch(1);
    /** Counted down by {@link #close()}: ends a wait between reconnections at once. */
    private final CountDownLatch closing = new CountDownLatch(1);
    /**
     * Held while a message is checked against {@link #closed} and handed over: {@link #close()} takes
     * it once, so that no handover is under way or starts after it returns, even with a poll under way.
     */
    private final ReentrantLock handing = new ReentrantLock();
    private volatile long next;
    private volatile boolean closed;
    private volatile RuntimeException failure;
    private volatile InputStream body;
    private volatile long lastActivity = System.nanoTime();
    private volatile int connections;
    private Thread reader;
    private Thread watchdog;

    private Subscription(PubSub pubsub, String topic, long from, Duration idleTimeout, boolean polling, Subscriber subscriber) {
        this.pubsub = pubsub;
        this.polling = polling;
        this.topic = topic;
        this.next = from;
        this.idleTimeout = idleTimeout;
        this.subscriber = subscriber;
    }

    static Subscription start(PubSub pubsub, String topic, long from, Duration idleTimeout, boolean polling, Subscriber subscriber) {
        Subscription subscription = new Subscription(pubsub, topic, from, idleTimeout, polling, subscriber);
        pubsub.fabric().ensureOpen();
        subscription.reader = Thread.ofVirtual().name("subscription-" + pubsub.memberId() + "-" + topic).start(subscription::run);
        subscription.watchdog = Thread.ofVirtual().name("subscription-watchdog-" + topic).start(subscription::watch);
        // Ends with its client: closed at once when the client closed meanwhile.
        return pubsub.fabric().opened(subscription);
    }

    /** The topic followed. */
    public String topic() {
        return topic;
    }

    /** The offset of the next message it will hand over: where a new subscription would carry on. */
    public long next() {
        return next;
    }

    /** Whether it polls the JSON fetch rather than holding a stream (see {@link PubSub#subscribe}). */
    public boolean polling() {
        return polling;
    }

    /** How many times it connected to the member: streams opened (1 until the first broke), or polls made. */
    public int connections() {
        return connections;
    }

    /**
     * Whether it still follows the topic: false once {@link #close()} returned, or once it ended on its
     * own (its subscriber may still be hearing so: {@link #awaitEnd} waits for that).
     */
    public boolean isOpen() {
        // closed, not the end latch: a poll under way ends (and counts the latch down) up to its wait after close().
        return !closed;
    }

    /** Why it ended on its own, if it did. */
    public Optional<RuntimeException> failure() {
        return Optional.ofNullable(failure);
    }

    /** Waits until it has ended (closed, or on its own) and its subscriber heard so; false when {@code timeout} passed first. */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        return ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Stops following the topic: when it returns, {@link #isOpen()} is false and no message is handed
     * over after this; a message the subscriber is handling then is waited for (up to 10 s). A stream
     * is closed and its thread waited for (up to 10 s), so {@link Subscriber#onEnd} has been called; a
     * poll under way is not waited for, it ends by itself within its wait (20 s at most), hands nothing
     * over, and calls {@code onEnd} then ({@link #awaitEnd} waits for it). The thread is not
     * interrupted: an interrupted call would look to the fail-over like a member that cannot be reached.
     */
    @Override
    public void close() {
        closed = true;
        closing.countDown();
        closeBody();
        if (Thread.currentThread() == reader) {
            // Closed by its own subscriber, from onMessage or onEnd: nothing to wait for.
            return;
        }
        try {
            if (!polling) {
                ended.await(10, TimeUnit.SECONDS);
            } else if (handing.tryLock(10, TimeUnit.SECONDS)) {
                handing.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        RuntimeException end = null;
        int failures = 0;
        try {
            while (!closed) {
                long before = next;
                try {
                    if (polling) {
                        poll();
                    } else {
                        stream();
                        // The member ended the stream (it is stopping): connect again, through the registry.
                        log.debug("subscription to {} of {}: the stream ended at offset {}; reconnecting", topic, pubsub.memberId(), next);
                    }
                } catch (OffsetGoneException | MemberLostException | MemberStoppedException | MemberRefusedException | SubscriberFailed e) {
                    end = e instanceof SubscriberFailed failed ? failed.cause : e;
                    return;
                } catch (RuntimeException e) {
                    if (closed || pubsub.fabric().isClosed()) {
                        return;
                    }
                    failures = next > before ? 1 : failures + 1;
                    long wait = BACKOFF_MILLIS[Math.min(failures, BACKOFF_MILLIS.length) - 1];
                    log.info("subscription to {} of {}: the stream broke at offset {} ({}); reconnecting in {} ms", topic,
                            pubsub.memberId(), next, FabricClient.describe(e), wait);
                    closing.await(wait, TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            failure = closed ? null : end;
            closed = true;
            pubsub.fabric().ended(this);
            watchdog.interrupt();
            try {
                subscriber.onEnd(failure);
            } catch (RuntimeException e) {
                log.warn("subscription to {} of {}: the subscriber's onEnd threw: {}", topic, pubsub.memberId(), e.toString());
            } finally {
                ended.countDown();
            }
        }
    }

    /** One stream, from {@link #next}, until it ends or breaks. */
    private void stream() {
        pubsub.fabric().stream(pubsub.memberId(), PubSubWire.ENDPOINT, (client, url) -> {
            client.get().uri(uri -> uri.path("/topics/{topic}/messages").queryParam("from", next).build(topic))
                    .accept(MediaType.TEXT_EVENT_STREAM)
                    .exchange((request, response) -> {
                        if (!response.getStatusCode().is2xxSuccessful()) {
                            byte[] problem = response.getBody().readNBytes(64 * 1024);
                            throw pubsub.refused(response.getStatusCode().value(), response.getStatusText(), problem,
                                    "follow topic " + topic + " from offset " + next, url.toString(), topic, next, null);
                        }
                        connections++;
                        try {
                            read(response.getBody());
                        } catch (IOException e) {
                            // Not "unreachable": the member answered, so no fail-over for a stream that broke
                            // (a restart of a live member); reconnecting tells whether it is down.
                            throw new StreamBroke(e);
                        }
                        return null;
                    }, true);
            return null;
        });
    }

    /** One long poll of the JSON fetch from {@link #next}, with the fail-over of any call. */
    private void poll() {
        Duration wait = Duration.ofMillis(Math.min(POLL_WAIT.toMillis(), pubsub.fabric().requestTimeout().toMillis() / 2));
        connections++;
        PubSubWire.Messages messages = pubsub.fetch(topic, next, 500, wait);
        for (PubSubWire.Message message : messages.messages()) {
            deliver(message);
        }
    }

    /**
     * Reads one stream until it ends; hands every message to the subscriber. The stream is closed
     * whichever way this ends: the HTTP client would otherwise drain it, which never ends.
     */
    private void read(InputStream stream) throws IOException {
        body = stream;
        lastActivity = System.nanoTime();
        try (stream) {
            if (!closed) {
                readEvents(stream);
            }
        }
    }

    private void readEvents(InputStream stream) throws IOException {
        BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
        SseDecoder decoder = new SseDecoder();
        String line;
        while (!closed && (line = lines.readLine()) != null) {
            lastActivity = System.nanoTime();
            Optional<ServerSentEvent> event = decoder.line(line);
            if (event.isEmpty()) {
                continue;
            }
            switch (event.get().type()) {
                case PubSubWire.MESSAGE_EVENT -> deliver(event.get());
                case PubSubWire.GONE_EVENT -> throw gone(event.get());
                default -> log.debug("subscription to {}: ignored an event of type {}", topic, event.get().type());
            }
        }
    }

    private void deliver(ServerSentEvent event) {
        long offset;
        try {
            offset = Long.parseLong(event.id());
        } catch (NumberFormatException | NullPointerException e) {
            throw new UncheckedIOException(new IOException("member " + pubsub.memberId() + " sent a message without an offset (id: "
                    + event.id() + ")"));
        }
        deliver(new PubSubWire.Message(offset, event.data(), null));
    }

    private void deliver(PubSubWire.Message message) {
        handing.lock();
        try {
            if (closed) {
                return;
            }
            if (message.offset() < next) {
                // Never expected: reading starts at next. Handing it over again would be a duplicate.
                return;
            }
            try {
                subscriber.onMessage(message);
            } catch (RuntimeException e) {
                next = message.offset();
                throw new SubscriberFailed(e);
            }
            next = message.offset() + 1;
        } finally {
            handing.unlock();
        }
    }

    private OffsetGoneException gone(ServerSentEvent event) {
        long oldest = -1;
        String detail = "retention dropped messages before this subscriber read them";
        try {
            PubSubWire.Gone gone = pubsub.fabric().json().readValue(event.data(), PubSubWire.Gone.class);
            oldest = gone.oldest();
            detail = gone.detail();
        } catch (JacksonException e) {
            // keep the defaults
        }
        return new OffsetGoneException(pubsub.memberId(), topic, next, oldest, "member " + pubsub.memberId() + " ended the stream of topic "
                + topic + " at offset " + next + ": " + detail, null);
    }

    /** Ends a stream that carried nothing, not even a keep-alive, for the idle timeout: the reader then reconnects. */
    private void watch() {
        try {
            while (!closed) {
                Thread.sleep(Math.max(100, idleTimeout.toMillis() / 4));
                if (System.nanoTime() - lastActivity > idleTimeout.toNanos() && body != null) {
                    log.info("subscription to {} of {}: nothing came for {}; reconnecting", topic, pubsub.memberId(), idleTimeout);
                    lastActivity = System.nanoTime();
                    closeBody();
                }
            }
        } catch (InterruptedException e) {
            // ended
        }
    }

    private void closeBody() {
        InputStream current = body;
        if (current != null) {
            try {
                current.close();
            } catch (IOException | RuntimeException e) {
                log.debug("subscription to {}: closing the stream failed: {}", topic, e.toString());
            }
        }
    }

    /** A stream that was open broke off. */
    private static final class StreamBroke extends RuntimeException {
        StreamBroke(IOException cause) {
            super(FabricRestClients.describeFailure(cause), cause, false, false);
        }
    }

    /** What the subscriber threw, carried out of the stream past the fail-over, which must not retry it. */
    private static final class SubscriberFailed extends RuntimeException {
        final RuntimeException cause;

        SubscriberFailed(RuntimeException cause) {
            super(cause.getMessage(), cause, false, false);
            this.cause = cause;
        }
    }
}
