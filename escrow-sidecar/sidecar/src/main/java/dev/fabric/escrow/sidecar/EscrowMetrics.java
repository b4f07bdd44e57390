package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.daemon.EscrowdListener;
import dev.fabric.escrow.daemon.Rejection;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.stats.EscrowStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.stereotype.Component;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The escrow's Prometheus metrics, read from the engine (the same numbers {@code escrow ls} shows):
 * <ul>
 * <li>{@code escrow_descriptors}, {@code escrow_slots}, {@code escrow_payload_bytes}: what is held now;</li>
 * <li>{@code escrow_tag_descriptors}, {@code escrow_tag_slots}, {@code escrow_tag_payload_bytes}
 *     with a {@code tag} label, for every tag used since start (a tag's series appears with its
 *     first ADD, which the engine tells this {@link EscrowdListener}, and stays, at zero once emptied);</li>
 * <li>{@code escrow_sessions_total}, {@code escrow_sessions_active}: sessions served, and whether one is now;</li>
 * <li>{@code escrow_errors_total} with a {@code reason} label: error replies and cut sessions, one series per
 *     reason from the start ({@code wrong_request}, {@code no_such_index}, {@code peer_refused}, ...);</li>
 * <li>{@code escrow_accepting}: 1 while a client connecting now would be served.</li>
 * </ul>
 * A scrape reads several dozen gauges; they share one walk of the slot table, at most every 250 ms.
 */
@Component
public class EscrowMetrics implements MeterBinder, EscrowdListener {

    private static final long SNAPSHOT_NANOS = 250_000_000L;

    private final EscrowdLifecycle lifecycle;
    private final Set<Integer> tagsWithMeters = ConcurrentHashMap.newKeySet();
    private volatile MeterRegistry registry;
    private volatile Snapshot snapshot;

    private record Snapshot(long takenAt, EscrowStats stats) {
    }

    public EscrowMetrics(EscrowdLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        registry = meterRegistry;
        gauge("escrow.descriptors", "Descriptors the escrow holds (slots that are not payload-only)", null, EscrowStats::descriptors);
        gauge("escrow.slots", "Slots the escrow holds, payload-only ones included", null, EscrowStats::totalSlots);
        gauge("escrow.payload", "Payload bytes the escrow holds", "bytes", EscrowStats::totalBytes);
        Gauge.builder("escrow.sessions.active", this, m -> m.engineValue(e -> e.sessionActive() ? 1 : 0))
                .description("1 while a client session is being served (one at a time)").register(meterRegistry);
        Gauge.builder("escrow.accepting", this, m -> m.engineValue(e -> e.isAccepting() ? 1 : 0))
                .description("1 while a client connecting now would be served").register(meterRegistry);
        FunctionCounter.builder("escrow.sessions", this, m -> m.engineValue(Escrowd::sessions))
                .description("Client sessions served since start").register(meterRegistry);
        for (Rejection rejection : Rejection.values()) {
            FunctionCounter.builder("escrow.errors", this, m -> m.engineValue(e -> e.errors(rejection)))
                    .description("Error replies and cut sessions since start, by reason")
                    .tag("reason", rejection.label()).register(meterRegistry);
        }
        tagsWithMeters.forEach(this::registerTag);
    }

    /** Registers the tag's gauges the first time an ADD or DEL touches it. */
    @Override
    public void tagChanged(int tag) {
        if (tagsWithMeters.add(tag) && registry != null) {
            registerTag(tag);
        }
    }

    private void registerTag(int tag) {
        String label = Integer.toString(tag);
        MeterRegistry meterRegistry = registry;
        Gauge.builder("escrow.tag.descriptors", this, m -> m.tagValue(tag, t -> t.slots() - t.count(DescriptorKind.NONE)))
                .description("Descriptors the escrow holds in a tag").tag("tag", label).register(meterRegistry);
        Gauge.builder("escrow.tag.slots", this, m -> m.tagValue(tag, EscrowStats.TagStats::slots))
                .description("Slots the escrow holds in a tag").tag("tag", label).register(meterRegistry);
        Gauge.builder("escrow.tag.payload", this, m -> m.tagValue(tag, EscrowStats.TagStats::bytes))
                .description("Payload bytes the escrow holds in a tag").baseUnit("bytes").tag("tag", label).register(meterRegistry);
    }

    private void gauge(String name, String description, String unit, ToDoubleFunction<EscrowStats> value) {
        Gauge.builder(name, this, m -> m.statsValue(value)).description(description).baseUnit(unit).register(registry);
    }

    private double engineValue(ToDoubleFunction<Escrowd> value) {
        return lifecycle.escrowd().map(value::applyAsDouble).orElse(0.0);
    }

    private double statsValue(ToDoubleFunction<EscrowStats> value) {
        EscrowStats stats = stats();
        return stats == null ? 0 : value.applyAsDouble(stats);
    }

    private double tagValue(int tag, ToDoubleFunction<EscrowStats.TagStats> value) {
        EscrowStats stats = stats();
        if (stats == null) {
            return 0;
        }
        return stats.tags().stream().filter(t -> t.tag() == tag).findFirst().map(value::applyAsDouble).orElse(0.0);
    }

    private EscrowStats stats() {
        Snapshot current = snapshot;
        long now = System.nanoTime();
        if (current == null || now - current.takenAt() > SNAPSHOT_NANOS) {
            Escrowd escrowd = lifecycle.escrowd().orElse(null);
            if (escrowd == null) {
                return null;
            }
            current = new Snapshot(now, escrowd.stats());
            snapshot = current;
        }
        return current.stats();
    }
}
