package dev.fabric.registry.heartbeat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The heartbeat streams this replica holds open, by member id: the gauge {@code fabric_registry_heartbeat_streams}. */
@Component
public class HeartbeatStreams {

    private final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();

    public HeartbeatStreams(MeterRegistry meters) {
        Gauge.builder("fabric.registry.heartbeat.streams", open, Map::size)
                .description("members with a heartbeat stream open to this replica").register(meters);
    }

    /** Whether the member has a heartbeat stream open to this replica. */
    public boolean isOpen(String id) {
        return open.containsKey(id);
    }

    void opened(String id) {
        open.computeIfAbsent(id, any -> new AtomicInteger()).incrementAndGet();
    }

    void closed(String id) {
        open.computeIfPresent(id, (any, count) -> count.decrementAndGet() == 0 ? null : count);
    }
}
