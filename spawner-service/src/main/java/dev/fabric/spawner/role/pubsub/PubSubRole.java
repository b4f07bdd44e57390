package dev.fabric.spawner.role.pubsub;

import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.sse.StreamSlots;
import dev.fabric.spawner.role.Role;
import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.RolePolicy;
import dev.fabric.spawner.role.StateUnrecoverableException;
import dev.fabric.spawner.role.journal.JournalRecovery;
import dev.fabric.spawner.web.SpawnerException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code pubsub} role, the seed's "pub/sub server": topics of messages served under
 * {@code /pubsub/v1} (docs/roles.md), every publish in a journal in the member's data directory
 * before it is answered, so a restart under the same id serves every message it acknowledged.
 * Subscribers read a topic from an offset, so one that was cut off carries on where it stopped.
 * A pubsub that lost its journal is not replaced: its messages are gone, and the application must hear it.
 */
@Component
@Profile("member")
public class PubSubRole implements Role {

    public static final String NAME = "pubsub";

    /** Metrics (Micrometer; {@code /actuator/prometheus}). */
    static final String PUBLISHED_METRIC = "fabric.pubsub.published";
    static final String DELIVERED_METRIC = "fabric.pubsub.delivered";
    static final String GONE_METRIC = "fabric.pubsub.gone";
    static final String TOPICS_METRIC = "fabric.pubsub.topics";
    static final String RETAINED_METRIC = "fabric.pubsub.retained";
    static final String SUBSCRIBERS_METRIC = "fabric.pubsub.subscribers";
    static final String JOURNAL_BYTES_METRIC = "fabric.pubsub.journal.bytes";

    private static final Logger log = LoggerFactory.getLogger(PubSubRole.class);

    private final Clock clock;
    private final int compactMinRecords;
    private final MeterRegistry meters;
    /** Between {@link #recover} and {@link #start}: the store read back from the journal. */
    private TopicStore recovered;
    private volatile Running running;

    /** How long a new stream waits, while the open ones are probed for subscribers that left, before it is refused. */
    static final Duration REFUSAL_PATIENCE = Duration.ofSeconds(1);

    /** A started pubsub: its settings, its store, and the places of its streams. */
    record Running(PubSubSettings settings, TopicStore store, StreamSlots subscribers) {}

    @Autowired
    public PubSubRole(MeterRegistry meters) {
        this(Clock.systemUTC(), TopicStore.DEFAULT_COMPACT_MIN_RECORDS, meters);
    }

    PubSubRole(Clock clock, int compactMinRecords) {
        this(clock, compactMinRecords, new SimpleMeterRegistry());
    }

    private PubSubRole(Clock clock, int compactMinRecords, MeterRegistry meters) {
        this.clock = clock;
        this.compactMinRecords = compactMinRecords;
        this.meters = meters;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RolePolicy policy() {
        // A fresh pubsub would serve none of the messages subscribers still expect.
        return new RolePolicy(false);
    }

    @Override
    public synchronized void recover(RoleContext context) throws StateUnrecoverableException {
        PubSubSettings settings;
        try {
            settings = PubSubSettings.of(context.config());
        } catch (IllegalArgumentException e) {
            throw new StateUnrecoverableException("its configuration is not valid: " + e.getMessage(), e);
        }
        closeQuietly(recovered);
        recovered = null;
        recovered = JournalRecovery.recover(context, NAME, PubSubJournal.FILE_NAME,
                () -> TopicStore.open(context.dataDirectory(), context.restart(), clock, settings, compactMinRecords));
    }

    @Override
    public synchronized void start(RoleContext context) {
        PubSubSettings settings = PubSubSettings.of(context.config());
        TopicStore opened = recovered;
        recovered = null;
        if (opened == null) {
            opened = JournalRecovery.start(context, NAME,
                    () -> TopicStore.open(context.dataDirectory(), false, clock, settings, compactMinRecords));
        }
        Running started = new Running(settings, opened, new StreamSlots(settings.maxSubscribers(), REFUSAL_PATIENCE));
        running = started;
        Gauge.builder(TOPICS_METRIC, this, role -> role.gauge(TopicStore.Stats::topics)).description("topics").register(meters);
        Gauge.builder(RETAINED_METRIC, this, role -> role.gauge(TopicStore.Stats::retained))
                .description("messages retained, every topic together").register(meters);
        Gauge.builder(JOURNAL_BYTES_METRIC, this, role -> role.gauge(TopicStore.Stats::journalBytes)).baseUnit("bytes")
                .description("the journal's length").register(meters);
        Gauge.builder(SUBSCRIBERS_METRIC, this, PubSubRole::subscribers).description("open subscriber streams").register(meters);
        log.info("pubsub {} incarnation {}: serving {} with journal {} ({})", context.serviceId(), context.incarnation(),
                PubSubWire.BASE_PATH, opened.journalFile(), settings);
    }

    @Override
    public synchronized void stop() {
        Running current = running;
        running = null;
        if (current != null) {
            // Streams first, so the web server's graceful shutdown does not wait on them.
            current.subscribers().closeAll();
            closeQuietly(current.store());
        }
        closeQuietly(recovered);
        recovered = null;
    }

    @Override
    public Map<String, Object> status() {
        Running current = running;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("started", current != null);
        if (current != null) {
            TopicStore.Stats stats = current.store().stats();
            status.put("topics", stats.topics());
            status.put("retained", stats.retained());
            status.put("retainedBytes", stats.retainedBytes());
            status.put("published", stats.published());
            status.put("subscribers", current.subscribers().inUse());
            status.put("journalBytes", stats.journalBytes());
            status.put(PubSubSettings.RETENTION_COUNT, current.settings().retentionCount());
            status.put(PubSubSettings.RETENTION_AGE, current.settings().retentionAge().toString());
            status.put(PubSubSettings.RETENTION_BYTES, current.settings().retentionBytes());
        }
        return status;
    }

    @Override
    public Map<String, String> endpoints() {
        return Map.of(PubSubWire.ENDPOINT, PubSubWire.BASE_PATH);
    }

    /** The running pubsub. */
    Running running() {
        Running current = running;
        if (current == null) {
            throw notStarted();
        }
        return current;
    }

    private int subscribers() {
        Running current = running;
        return current == null ? 0 : current.subscribers().inUse();
    }

    void published(int messages) {
        meters.counter(PUBLISHED_METRIC).increment(messages);
    }

    void delivered(int messages, String how) {
        meters.counter(DELIVERED_METRIC, "via", how).increment(messages);
    }

    void gone() {
        meters.counter(GONE_METRIC).increment();
    }

    static SpawnerException notStarted() {
        return new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "pubsub-not-started", "pubsub role not started: this member "
                + "does not run the pubsub role, or has not been configured for it yet, or is stopping; retry once it is RUNNING");
    }

    private long gauge(java.util.function.ToLongFunction<TopicStore.Stats> value) {
        Running current = running;
        if (current == null) {
            return 0;
        }
        try {
            return value.applyAsLong(current.store().stats());
        } catch (SpawnerException stopping) {
            return 0;
        }
    }

    private static void closeQuietly(TopicStore store) {
        if (store == null) {
            return;
        }
        try {
            store.close();
        } catch (IOException e) {
            // Every record was forced when written: nothing is lost by a failed close.
            log.warn("pubsub journal {}: close failed: {}", store.journalFile(), e.toString());
        }
    }
}
