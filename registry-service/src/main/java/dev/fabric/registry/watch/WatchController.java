package dev.fabric.registry.watch;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.sse.StreamSlots;
import dev.fabric.registry.instance.RegistryException;
import io.swagger.v3.oas.annotations.Operation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.context.SmartLifecycle;

/**
 * The change stream as server-sent events. Each event's id is its revision, its name the kind of
 * change, its data the change as JSON. A client resumes with {@code ?since=REV} (or the standard
 * {@code Last-Event-ID} header) and receives every change after it, in order; listing first and then
 * watching from the list's revision misses nothing. At most {@code max-streams} are served; a
 * watcher that hung up gives its place to a new one at once ({@link StreamSlots}).
 */
@RestController
public class WatchController implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WatchController.class);
    /** How long a new watch waits, while the open ones are probed for watchers that left, before it is refused. */
    private static final Duration REFUSAL_PATIENCE = Duration.ofSeconds(1);
    /** The Retry-After of {@code too-many-watches}: places free up as watchers leave. */
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    private final ChangeLog changes;
    private final ChangeFeed feed;
    private final WatchProperties properties;
    private final Set<Thread> streams = ConcurrentHashMap.newKeySet();
    private final StreamSlots slots;
    private volatile boolean running;

    public WatchController(ChangeLog changes, ChangeFeed feed, WatchProperties properties) {
        this.changes = changes;
        this.feed = feed;
        this.properties = properties;
        this.slots = new StreamSlots(properties.maxStreams(), REFUSAL_PATIENCE);
    }

    @Operation(summary = "Stream registry changes after a revision (server-sent events)")
    @ProblemAnswer(status = 400, reasons = "invalid-revision")
    @ProblemAnswer(status = 410, reasons = "revision-compacted")
    @ProblemAnswer(status = 503, reasons = {"too-many-watches", "shutting-down", "database-unavailable"})
    @GetMapping(path = "/api/v1/watch", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    public SseEmitter watch(@RequestParam(required = false) Long since,
                            @RequestHeader(name = "Last-Event-ID", required = false) Long lastEventId)
            throws InterruptedException {
        long from = lastEventId != null ? lastEventId : since != null ? since : changes.currentRevision();
        if (from < 0) {
            throw new RegistryException(HttpStatus.BAD_REQUEST, "invalid-revision", "since must be 0 or a revision, was " + from);
        }
        long current = changes.currentRevision();
        if (from > current) {
            throw new RegistryException(HttpStatus.BAD_REQUEST, "invalid-revision", "since " + from + " is after the registry's current "
                    + "revision " + current + "; watch from a revision a list or an event gave, or from 0");
        }
        long oldest = changes.oldestRetained();
        if (from < oldest - 1) {
            throw new RegistryException(HttpStatus.GONE, "revision-compacted", "changes before revision " + oldest
                    + " are no longer kept; list the instances again and watch from the list's revision");
        }
        if (!running) {
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "shutting-down", "the registry is shutting down; watch another replica");
        }
        StreamSlots.Slot slot = slots.take().orElseThrow(() -> new RegistryException(HttpStatus.SERVICE_UNAVAILABLE,
                "too-many-watches", "this registry already serves " + properties.maxStreams() + " watch streams "
                + "(fabric.registry.watch.max-streams), all of them open; retry later, share one watch per process, or watch "
                + "another replica", RETRY_AFTER));
        SseEmitter emitter = new SseEmitter(0L);
        Thread stream = Thread.ofVirtual().name("watch-from-" + from).unstarted(() -> {
            try {
                stream(emitter, slot, from);
            } finally {
                streams.remove(Thread.currentThread());
                slot.close();
            }
        });
        // No wake: the thread may be reading the change log, and an interrupt there can close the database's
        // file; it ends at its next look at the slot or write, its place already given back.
        slot.serve(emitter, () -> { });
        streams.add(stream);
        stream.start();
        return emitter;
    }

    @Override
    public void start() {
        running = true;
    }

    /** Ends every open stream first, so the web server's graceful shutdown does not wait on them. */
    @Override
    public void stop() {
        running = false;
        streams.forEach(Thread::interrupt);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE;
    }

    private void stream(SseEmitter emitter, StreamSlots.Slot slot, long from) {
        long last = from;
        try {
            emitter.send(SseEmitter.event().comment("watching changes after revision " + from));
            while (!Thread.currentThread().isInterrupted() && slot.isOpen()) {
                // Caught up: wait on the shared feed. Behind it: read the log until caught up.
                List<ChangeEvent> batch = feed.after(last, 500, properties.keepAlive());
                if (batch == null) {
                    batch = changes.after(last, 500);
                    if (batch.isEmpty()) {
                        Thread.sleep(properties.pollInterval().toMillis());
                        continue;
                    }
                }
                for (ChangeEvent event : batch) {
                    emitter.send(SseEmitter.event().id(Long.toString(event.revision())).name(event.kind().name())
                            .data(event.payload(), MediaType.APPLICATION_JSON));
                    last = event.revision();
                }
                if (batch.isEmpty()) {
                    emitter.send(SseEmitter.event().comment("keep-alive"));
                }
            }
        } catch (IOException | IllegalStateException e) {
            log.debug("watcher after revision {} left: {}", last, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("watch stream after revision {} ended: {}", last, e.getMessage());
            emitter.completeWithError(e);
            return;
        }
        emitter.complete();
    }

    /**
     * {@code fabric.registry.watch.*}.
     *
     * @param pollInterval how often the shared change feed looks for new changes (default 200 ms)
     * @param keepAlive how long a quiet stream waits before a keep-alive comment (default 15 s)
     * @param retention how many of the latest changes are kept for watchers to resume from (default
     *     100,000); a watcher further behind is told to list again ({@code 410 revision-compacted})
     * @param maxStreams how many watch streams this registry serves at once (default 200); one more is
     *     refused with {@code 503 too-many-watches} and {@code Retry-After: 1}, once the open ones were
     *     probed (for up to a second) and none had been closed by its watcher
     */
    @org.springframework.boot.context.properties.ConfigurationProperties("fabric.registry.watch")
    public record WatchProperties(
            @org.springframework.boot.context.properties.bind.DefaultValue("200ms") Duration pollInterval,
            @org.springframework.boot.context.properties.bind.DefaultValue("15s") Duration keepAlive,
            @org.springframework.boot.context.properties.bind.DefaultValue("100000") long retention,
            @org.springframework.boot.context.properties.bind.DefaultValue("200") int maxStreams) {}
}
