package dev.fabric.spawner.role.agent;

import dev.fabric.core.client.MemberRefusedException;
import dev.fabric.core.client.PubSub;
import dev.fabric.core.client.RequestBatches;
import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.task.TaskEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.io.JsonStringEncoder;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Publishes task events on the pilot's events topic, in the order they were handed in, batched:
 * whatever waits while one request is under way goes in the next (the pubsub's bulk form,
 * {@code {"bodies": [...]}}, one journal write for all); events handed in together go in the same
 * request. A batch stays within the bytes the pubsub takes in one request (its max-body-size, the
 * agent's own: the spawner hands both the same), counted as the JSON sent. A handed-in event's
 * future completes when the pubsub has acknowledged it, that is, journaled it. A pubsub that cannot
 * be reached is tried again, with its fail-over, until it answers or the agent stops; one that
 * refuses an event with its output (too large for it, say) gets the event without the output,
 * marked truncated. While the agent has tasks waiting for a slot (a bulk of them), a request waits up to
 * {@link #LINGER} for more events to go with it, until it carries {@value #LINGER_ENOUGH}: those tasks wait
 * here anyway, and one request for many events costs the agent, the pubsub and the pilot manager far
 * less than one for each. A lone task's events go at once.
 */
final class EventPublisher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);
    private static final int MAX_BATCH = 500;
    /** How long a request waits for more events while the agent has tasks waiting for a slot. */
    static final Duration LINGER = Duration.ofMillis(50);
    /** The events a lingering request waits for: with that many it goes at once. */
    static final int LINGER_ENOUGH = 100;
    private static final Duration FIRST_RETRY = Duration.ofMillis(100);
    private static final Duration LAST_RETRY = Duration.ofSeconds(5);

    /** An event to publish: its JSON, and the bytes that takes in a bulk publish's JSON (escaped, a comma after). */
    private record Pending(TaskEvent event, String body, long bytes, CompletableFuture<Void> published, boolean stripped) {}

    private final PubSub pubsub;
    private final String topic;
    private final JsonMapper json;
    /** The most bytes of a publish request, less its envelope: what the events of one batch may take. */
    private final long batchBytes;
    // Groups of events handed in together, so they go in one request (a quick task's RUNNING and final event).
    private final BlockingQueue<List<Pending>> pending = new LinkedBlockingQueue<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    /** Whether the agent has tasks waiting for a slot: then a request lingers for more events. */
    private final BooleanSupplier backlog;
    private final Duration linger;
    private final Runnable afterEachPublish;
    private final ObjectWriter eventWriter;
    private final Thread thread;
    /** A group taken from {@link #pending} that did not fit the last request: the first of the next. */
    private List<Pending> held;
    private volatile boolean running = true;

    EventPublisher(PubSub pubsub, String topic, JsonMapper json) {
        this(pubsub, topic, json, () -> false, LINGER, () -> {});
    }

    /**
     * @param afterEachPublish runs once the futures of a request's events are completed (the agent writes
     *                         their journal lines then, in one write)
     */
    EventPublisher(PubSub pubsub, String topic, JsonMapper json, BooleanSupplier backlog, Duration linger, Runnable afterEachPublish) {
        this.pubsub = pubsub;
        this.topic = topic;
        this.json = json;
        this.eventWriter = json.writerFor(TaskEvent.class);
        this.backlog = backlog;
        this.linger = linger;
        this.afterEachPublish = afterEachPublish;
        this.batchBytes = pubsub.maxBodyBytes() - json.writeValueAsBytes(PubSubWire.Publish.all(List.of())).length;
        this.thread = Thread.ofVirtual().name("agent-publisher").start(this::run);
    }

    /** Queues an event; the future completes once the pubsub acknowledged it, or fails when the agent stops first. */
    CompletableFuture<Void> publish(TaskEvent event) {
        return publish(List.of(event));
    }

    /**
     * Queues events that go in the same request, in this order (a task's RUNNING and final event when
     * it ended at once); the future completes once the pubsub acknowledged them all.
     */
    CompletableFuture<Void> publish(List<TaskEvent> events) {
        CompletableFuture<Void> published = new CompletableFuture<>();
        outstanding.incrementAndGet();
        published.whenComplete((ok, failure) -> outstanding.decrementAndGet());
        List<CompletableFuture<Void>> each = new ArrayList<>();
        List<Pending> group = new ArrayList<>();
        for (TaskEvent event : events) {
            CompletableFuture<Void> one = new CompletableFuture<>();
            each.add(one);
            group.add(pending(event, one, false));
        }
        CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
            if (failure != null) {
                published.completeExceptionally(failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : failure);
            } else {
                published.complete(null);
            }
        });
        pending.add(group);
        if (!running) {
            each.forEach(one -> one.completeExceptionally(new IllegalStateException("the agent is stopping")));
        }
        return published;
    }

    /** Events handed in and not yet acknowledged (nor given up). */
    int outstanding() {
        return outstanding.get();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<List<Pending>> left = new ArrayList<>();
        if (held != null) {
            left.add(held);
        }
        pending.drainTo(left);
        left.stream().flatMap(List::stream).forEach(p -> p.published().completeExceptionally(new IllegalStateException("the agent stopped before publishing it")));
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (running) {
            try {
                batch.addAll(held != null ? held : pending.take());
                held = null;
                long bytes = bytes(batch);
                long lingerUntil = System.nanoTime() + (backlog.getAsBoolean() ? linger.toNanos() : 0);
                while (true) {
                    List<Pending> next = pending.poll();
                    if (next == null) {
                        long left = lingerUntil - System.nanoTime();
                        if (left <= 0 || batch.size() >= LINGER_ENOUGH) {
                            break;
                        }
                        next = pending.poll(left, TimeUnit.NANOSECONDS);
                        if (next == null) {
                            break;
                        }
                    }
                    if (batch.size() + next.size() > MAX_BATCH || bytes + bytes(next) > batchBytes) {
                        held = next;
                        break;
                    }
                    bytes += bytes(next);
                    batch.addAll(next);
                }
                send(batch);
                batch.forEach(p -> p.published().complete(null));
                afterEachPublish.run();
                batch.clear();
            } catch (InterruptedException e) {
                batch.forEach(p -> p.published().completeExceptionally(new IllegalStateException("the agent stopped before publishing it")));
                return;
            }
        }
    }

    /**
     * Sends the batch until the pubsub acknowledges it. A group handed in together that is larger than
     * one request goes in several ({@link PubSub#publishAll}).
     */
    private void send(List<Pending> batch) throws InterruptedException {
        Duration wait = FIRST_RETRY;
        while (true) {
            try {
                post(batch.stream().map(Pending::body).toList());
                return;
            } catch (RuntimeException failure) {
                Optional<String> refusal = refusal(failure);
                if (refusal.isPresent()) {
                    sendOneByOne(batch, refusal.get(), failure);
                    return;
                }
                log.warn("pubsub {} did not take {} task events ({}); trying again in {}", pubsub.memberId(), batch.size(),
                        failure.getMessage(), wait);
            }
            Thread.sleep(wait);
            wait = wait.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : wait.multipliedBy(2);
        }
    }

    /**
     * The reason of a refusal that sending again would not change: the pubsub's 4xx, or an event too
     * large for a request even alone (refused before it was sent); empty for what is worth another try.
     */
    private static Optional<String> refusal(RuntimeException failure) {
        if (failure instanceof RequestBatches.ItemTooLargeException) {
            return Optional.of("body-too-large");
        }
        if (failure instanceof MemberRefusedException refused && refused.status() < 500) {
            return Optional.of(refused.reason());
        }
        return Optional.empty();
    }

    /** A refused batch: each event alone, and one still refused without its output. */
    private void sendOneByOne(List<Pending> batch, String reason, RuntimeException refused) throws InterruptedException {
        for (Pending p : batch) {
            if (p.stripped()) {
                log.error("pubsub {} refused the event of task {} even without its output: {}", pubsub.memberId(), p.event().task(),
                        refused.getMessage());
                p.published().completeExceptionally(refused);
                continue;
            }
            if (batch.size() > 1) {
                try {
                    post(List.of(p.body()));
                    continue;
                } catch (RuntimeException again) {
                    Optional<String> refusal = refusal(again);
                    if (refusal.isEmpty()) {
                        send(List.of(p));
                        continue;
                    }
                    reason = refusal.get();
                    refused = again;
                }
            }
            TaskEvent e = p.event();
            TaskEvent stripped = new TaskEvent(e.task(), e.pilot(), e.state(), e.agent(), e.attempt(), e.at(), e.exitStatus(), e.reason(),
                    "the pubsub refused this event with its output (" + reason + "); the output is in the "
                            + "task's sandbox on agent " + e.agent(),
                    e.duration(), e.stdout() == null ? null : "", e.stderr() == null ? null : "",
                    e.stdout() == null ? null : Boolean.TRUE, e.stderr() == null ? null : Boolean.TRUE);
            log.warn("pubsub {} refused the event of task {} ({}): publishing it without its output", pubsub.memberId(), e.task(),
                    refused.getMessage());
            send(List.of(pending(stripped, p.published(), true)));
        }
    }

    private Pending pending(TaskEvent event, CompletableFuture<Void> published, boolean stripped) {
        String body = eventWriter.writeValueAsString(event);
        // In a bulk publish it is a JSON string: its escaped bytes, two quotes and a comma.
        return new Pending(event, body, JsonStringEncoder.getInstance().quoteAsUTF8(body).length + 3L, published, stripped);
    }

    private static long bytes(List<Pending> group) {
        return group.stream().mapToLong(Pending::bytes).sum();
    }

    private void post(List<String> bodies) {
        pubsub.publishAll(topic, bodies);
    }
}
