package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.daemon.EscrowdListener;
import dev.fabric.escrow.daemon.Rejection;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.stats.EscrowStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The escrow's Prometheus metrics, read from the engine (the same numbers {@code escrow ls} shows),
 * every series labelled {@code application="escrow-sidecar"}:
 * <ul>
 * <li>{@code escrow_descriptors}, {@code escrow_slots}, {@code escrow_payload_bytes}: what is held now;</li>
 * <li>{@code escrow_tag_descriptors}, {@code escrow_tag_slots}, {@code escrow_tag_payload_bytes} with a
 *     {@code tag} label, for every tag used since start (a tag's series appears with its first ADD or DEL,
 *     which the engine tells this {@link EscrowdListener}, and stays, at zero once emptied);</li>
 * <li>{@code escrow_sessions_total}, {@code escrow_sessions_active}: sessions served, and whether one is now;</li>
 * <li>{@code escrow_errors_total} with a {@code reason} label: error replies and cut sessions, one series per
 *     reason from the start ({@code wrong_request}, {@code no_such_index}, {@code peer_refused}, ...);</li>
 * <li>{@code escrow_accepting}: 1 while a client connecting now would be served.</li>
 * </ul>
 * A scrape reads all of them from one walk of the slot table (a snapshot at most 250 ms old).
 */
public final class EscrowMetrics implements EscrowdListener {

    static final Labels APPLICATION = Labels.of("application", "escrow-sidecar");
    private static final long SNAPSHOT_NANOS = 250_000_000L;

    private final Supplier<Escrowd> engine;
    private final Set<Integer> tagsUsed = new ConcurrentSkipListSet<>();
    private volatile Snapshot snapshot;

    private record Snapshot(long takenAt, EscrowStats stats) {
    }

    /** {@code engine} gives the running engine, or null before it has started. */
    public EscrowMetrics(Supplier<Escrowd> engine) {
        this.engine = engine;
    }

    /** Registers every series in {@code registry}. */
    public EscrowMetrics registerIn(PrometheusRegistry registry) {
        gauge(registry, "escrow_descriptors", "Descriptors the escrow holds (slots that are not payload-only)", EscrowStats::descriptors);
        gauge(registry, "escrow_slots", "Slots the escrow holds, payload-only ones included", EscrowStats::totalSlots);
        gauge(registry, "escrow_payload_bytes", "Payload bytes the escrow holds", EscrowStats::totalBytes);
        tagGauge(registry, "escrow_tag_descriptors", "Descriptors the escrow holds in a tag", t -> t.slots() - t.count(DescriptorKind.NONE));
        tagGauge(registry, "escrow_tag_slots", "Slots the escrow holds in a tag", EscrowStats.TagStats::slots);
        tagGauge(registry, "escrow_tag_payload_bytes", "Payload bytes the escrow holds in a tag", EscrowStats.TagStats::bytes);
        GaugeWithCallback.builder().name("escrow_sessions_active").help("1 while a client session is being served (one at a time)")
                .constLabels(APPLICATION).callback(cb -> cb.call(engineValue(e -> e.sessionActive() ? 1 : 0))).register(registry);
        GaugeWithCallback.builder().name("escrow_accepting").help("1 while a client connecting now would be served")
                .constLabels(APPLICATION).callback(cb -> cb.call(engineValue(e -> e.isAccepting() ? 1 : 0))).register(registry);
        CounterWithCallback.builder().name("escrow_sessions").help("Client sessions served since start")
                .constLabels(APPLICATION).callback(cb -> cb.call(engineValue(Escrowd::sessions))).register(registry);
        CounterWithCallback.builder().name("escrow_errors").help("Error replies and cut sessions since start, by reason")
                .constLabels(APPLICATION).labelNames("reason").callback(cb -> {
                    for (Rejection rejection : Rejection.values()) {
                        cb.call(engineValue(e -> e.errors(rejection)), rejection.label());
                    }
                }).register(registry);
        return this;
    }

    /** A tag's series appear the first time an ADD or DEL touches it. */
    @Override
    public void tagChanged(int tag) {
        tagsUsed.add(tag);
    }

    private void gauge(PrometheusRegistry registry, String name, String help, ToDoubleFunction<EscrowStats> value) {
        GaugeWithCallback.builder().name(name).help(help).constLabels(APPLICATION).callback(cb -> {
            EscrowStats stats = stats();
            cb.call(stats == null ? 0 : value.applyAsDouble(stats));
        }).register(registry);
    }

    private void tagGauge(PrometheusRegistry registry, String name, String help, ToDoubleFunction<EscrowStats.TagStats> value) {
        GaugeWithCallback.builder().name(name).help(help).constLabels(APPLICATION).labelNames("tag").callback(cb -> {
            EscrowStats stats = stats();
            for (int tag : tagsUsed) {
                double v = stats == null ? 0 : stats.tags().stream().filter(t -> t.tag() == tag).findFirst()
                        .map(value::applyAsDouble).orElse(0.0);
                cb.call(v, Integer.toString(tag));
            }
        }).register(registry);
    }

    private double engineValue(ToDoubleFunction<Escrowd> value) {
        Escrowd escrowd = engine.get();
        return escrowd == null ? 0 : value.applyAsDouble(escrowd);
    }

    private EscrowStats stats() {
        Snapshot current = snapshot;
        long now = System.nanoTime();
        if (current == null || now - current.takenAt() > SNAPSHOT_NANOS) {
            Escrowd escrowd = engine.get();
            if (escrowd == null) {
                return null;
            }
            current = new Snapshot(now, escrowd.stats());
            snapshot = current;
        }
        return current.stats();
    }
}
