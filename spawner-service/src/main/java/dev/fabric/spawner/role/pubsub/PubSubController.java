package dev.fabric.spawner.role.pubsub;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.sse.StreamSlots;
import dev.fabric.spawner.role.RoleRequests;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static dev.fabric.spawner.role.RoleRequests.invalid;

/**
 * The pubsub's HTTP API (docs/roles.md, "pubsub"); answers 503 until the member runs the pubsub role.
 * A topic's messages are read as a stream of server-sent events ({@code Accept: text/event-stream})
 * or fetched as JSON (any other {@code Accept}).
 */
@RestController
@Profile("member")
@RequestMapping(PubSubWire.BASE_PATH)
public class PubSubController {

    static final int MAX_BULK = 1000;
    static final int MAX_FETCH = 1000;
    static final int DEFAULT_FETCH = 100;
    static final Duration MAX_WAIT = Duration.ofSeconds(30);
    /** The Retry-After of {@code too-many-subscribers}: places free up as subscribers leave. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    /** The most messages one stream sends between two looks at the store. */
    private static final int STREAM_BATCH = 500;
    private static final Pattern LINE_END = Pattern.compile("\r\n|\r|\n");

    private static final Logger log = LoggerFactory.getLogger(PubSubController.class);

    private final PubSubRole role;

    public PubSubController(PubSubRole role) {
        this.role = role;
    }

    @ProblemAnswer(status = 503, reasons = {"pubsub-not-started", "journal-unavailable"})
    @PostMapping(path = "/topics/{topic}/messages", consumes = MediaType.APPLICATION_JSON_VALUE)
    Object publish(@PathVariable String topic, @RequestBody(required = false) PubSubWire.Publish request) {
        TopicStore store = role.running().store();
        topic(topic);
        if (request == null || (request.body() == null && request.bodies() == null)) {
            throw invalid("the request needs a JSON object with a text \"body\" (one message), e.g. {\"body\": \"task t-1 DONE\"}, "
                    + "or \"bodies\", a list of texts (several messages, in order)");
        }
        if (request.body() != null && request.bodies() != null) {
            throw invalid("the request has both \"body\" and \"bodies\": send one message as \"body\", or several as \"bodies\"");
        }
        if (request.body() != null) {
            long offset = store.publish(topic, body(request.body(), "the body"));
            role.published(1);
            return new PubSubWire.Published(offset);
        }
        List<String> bodies = request.bodies();
        if (bodies.isEmpty() || bodies.size() > MAX_BULK) {
            throw invalid("\"bodies\" must hold 1 to " + MAX_BULK + " texts, not " + bodies.size());
        }
        List<byte[]> encoded = new ArrayList<>(bodies.size());
        for (int i = 0; i < bodies.size(); i++) {
            if (bodies.get(i) == null) {
                throw invalid("bodies[" + i + "] is null; every message needs a text body (it may be empty)");
            }
            encoded.add(body(bodies.get(i), "bodies[" + i + "]"));
        }
        List<Long> offsets = store.publishAll(topic, encoded);
        role.published(offsets.size());
        return new PubSubWire.PublishedAll(offsets);
    }

    /** The JSON fetch, for polling clients: {@code from} defaults to the oldest retained message. */
    @ProblemAnswer(status = 410, reasons = "gone", when = "retention dropped the offset asked for; the problem's oldest says where to go on")
    @ProblemAnswer(status = 503, reasons = "pubsub-not-started")
    @GetMapping("/topics/{topic}/messages")
    PubSubWire.Messages fetch(@PathVariable String topic, @RequestParam(required = false) String from,
                              @RequestParam(required = false) String max, @RequestParam(required = false) String wait)
            throws InterruptedException {
        TopicStore store = role.running().store();
        topic(topic);
        int limit = max == null ? DEFAULT_FETCH : RoleRequests.number("max", max, 1, MAX_FETCH);
        Duration patience = wait == null ? Duration.ZERO : waitOf(wait);
        long start = from == null ? store.oldest(topic) : offset(from, "from");
        TopicStore.Slice slice;
        try {
            slice = store.await(topic, start, limit, patience);
        } catch (OffsetGoneException e) {
            role.gone();
            throw e;
        }
        role.delivered(slice.entries().size(), "fetch");
        return new PubSubWire.Messages(slice.entries().stream().map(PubSubController::message).toList(), slice.next());
    }

    /**
     * The stream: every message from {@code Last-Event-ID} + 1, else {@code from}, else the next new
     * one, as it is published, until the subscriber leaves. A subscriber that hung up gives its place
     * to a new stream at once ({@link StreamSlots}).
     */
    @ProblemAnswer(status = 410, reasons = "gone", when = "retention dropped the offset asked for; the problem's oldest says where to go on")
    @ProblemAnswer(status = 503, reasons = {"pubsub-not-started", "too-many-subscribers"})
    @GetMapping(path = "/topics/{topic}/messages", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter subscribe(@PathVariable String topic, @RequestParam(required = false) String from,
                         @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId)
            throws InterruptedException {
        PubSubRole.Running running = role.running();
        TopicStore store = running.store();
        topic(topic);
        long start;
        if (lastEventId != null && !lastEventId.isBlank()) {
            long last = offset(lastEventId, "Last-Event-ID");
            if (last == Long.MAX_VALUE) {
                throw invalid("Last-Event-ID " + lastEventId + " is no offset this pubsub gave out");
            }
            start = last + 1;
        } else {
            start = from == null ? store.next(topic) : offset(from, "from");
        }
        try {
            // Refusals (gone, past the end) are answered now, as problems, not inside the stream.
            store.read(topic, start, 0);
        } catch (OffsetGoneException e) {
            role.gone();
            throw e;
        }
        StreamSlots.Slot slot = running.subscribers().take().orElseThrow(() -> new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE,
                "too-many-subscribers", "this pubsub already serves " + running.settings().maxSubscribers() + " streams (its "
                + "max-subscribers), all of them open; retry later, share one stream per process, or poll with the JSON fetch",
                RETRY_AFTER));
        SseEmitter emitter = new SseEmitter(0L);
        Thread stream = Thread.ofVirtual().name("pubsub-" + topic + "-from-" + start).unstarted(() -> {
            try {
                stream(emitter, running, topic, start);
            } finally {
                slot.close();
            }
        });
        // The stream waits in the store's memory, where an interrupt ends it at once; a stop closes every slot.
        slot.serve(emitter, stream::interrupt);
        stream.start();
        return emitter;
    }

    @ProblemAnswer(status = 503, reasons = "pubsub-not-started")
    @GetMapping("/topics")
    PubSubWire.Topics topics() {
        return new PubSubWire.Topics(role.running().store().topics().stream()
                .map(t -> new PubSubWire.Topic(t.name(), t.oldest(), t.next(), t.retained())).toList());
    }

    private void stream(SseEmitter emitter, PubSubRole.Running running, String topic, long start) {
        long next = start;
        try {
            emitter.send(SseEmitter.event().comment("topic " + topic + " from offset " + start));
            while (!Thread.currentThread().isInterrupted()) {
                TopicStore.Slice slice = running.store().await(topic, next, STREAM_BATCH, running.settings().keepAlive());
                if (slice.entries().isEmpty()) {
                    emitter.send(SseEmitter.event().comment("keep-alive"));
                    continue;
                }
                // The slice's events in one write and flush, not one each: a busy topic's messages come in bursts.
                Set<ResponseBodyEmitter.DataWithMediaType> events = new LinkedHashSet<>();
                for (TopicStore.Entry entry : slice.entries()) {
                    SseEmitter.SseEventBuilder event = SseEmitter.event().id(Long.toString(entry.offset())).name(PubSubWire.MESSAGE_EVENT);
                    // One data line per line of the body: a line end inside a data line would end the field.
                    for (String line : LINE_END.split(new String(entry.body(), StandardCharsets.UTF_8), -1)) {
                        event.data(line);
                    }
                    events.addAll(event.build());
                }
                emitter.send(events);
                next = slice.next();
                role.delivered(slice.entries().size(), "stream");
            }
        } catch (OffsetGoneException e) {
            // Retention overtook a slow reader: it hears so, with where it can carry on from, and the stream ends.
            role.gone();
            try {
                emitter.send(SseEmitter.event().name(PubSubWire.GONE_EVENT).data(new PubSubWire.Gone(e.oldest(), e.detail()),
                        MediaType.APPLICATION_JSON));
            } catch (IOException | IllegalStateException left) {
                log.debug("subscriber of {} left before hearing it fell behind: {}", topic, left.getMessage());
            }
        } catch (IOException | IllegalStateException e) {
            log.debug("subscriber of {} left at offset {}: {}", topic, next, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SpawnerException e) {
            // The role stopped under the stream.
            log.debug("stream of {} at offset {} ends: {}", topic, next, e.getMessage());
        } catch (RuntimeException e) {
            log.warn("stream of {} at offset {} ended: {}", topic, next, e.toString());
            emitter.completeWithError(e);
            return;
        }
        emitter.complete();
    }

    private static PubSubWire.Message message(TopicStore.Entry entry) {
        return new PubSubWire.Message(entry.offset(), new String(entry.body(), StandardCharsets.UTF_8), entry.at());
    }

    private static void topic(String topic) {
        if (!PubSubWire.isTopic(topic)) {
            throw invalid("'" + topic + "' is not a topic name: 1 to 128 characters, lower-case letters, digits, '.', '_' and '-', "
                    + "starting with a letter or digit (e.g. tasks.pilot-1)");
        }
    }

    private static byte[] body(String text, String what) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        if (body.length > PubSubJournal.MAX_BODY_BYTES) {
            throw invalid(what + " is " + body.length + " bytes in UTF-8, over the limit of " + PubSubJournal.MAX_BODY_BYTES
                    + " bytes (256 KiB); store large payloads elsewhere and publish a reference");
        }
        return body;
    }

    private static long offset(String value, String what) {
        try {
            long offset = Long.parseLong(value.strip());
            if (offset >= 0) {
                return offset;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw invalid(what + " must be an offset, a whole number from 0, not '" + value + "'");
    }


    private static Duration waitOf(String value) {
        Duration wait;
        try {
            wait = DurationStyle.detectAndParse(value.strip(), ChronoUnit.SECONDS);
        } catch (IllegalArgumentException e) {
            wait = null;
        }
        if (wait == null || wait.isNegative() || wait.compareTo(MAX_WAIT) > 0) {
            throw invalid("wait must be a duration from 0s to 30s (e.g. 10s), not '" + value + "'");
        }
        return wait;
    }
}
