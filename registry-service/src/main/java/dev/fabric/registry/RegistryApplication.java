package dev.fabric.registry;

import dev.fabric.registry.heartbeat.DetectorLease;
import dev.fabric.registry.heartbeat.HeartbeatProperties;
import dev.fabric.registry.heartbeat.LocalLease;
import dev.fabric.registry.heartbeat.PostgresAdvisoryLease;
import dev.fabric.registry.instance.InstanceRepository;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.registry.watch.WatchController;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.EnableScheduling;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** The fabric registry: a persistent, signed-request-only record of every fabric member. */
@SpringBootApplication
@EnableScheduling
@EnableConfigurationProperties({HeartbeatProperties.class, WatchController.WatchProperties.class,
        dev.fabric.registry.instance.ChangeWriter.Properties.class, dev.fabric.registry.rendezvous.RendezvousProperties.class})
public class RegistryApplication {

    public static void main(String[] args) {
        SpringApplication.run(RegistryApplication.class, args);
    }

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    /** PostgreSQL may be shared by several replicas: an advisory lock elects the detector. An embedded H2 has one owner. */
    @Bean(destroyMethod = "close")
    DetectorLease detectorLease(DataSource dataSource) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            if ("PostgreSQL".equals(connection.getMetaData().getDatabaseProductName())) {
                return new PostgresAdvisoryLease(dataSource);
            }
        }
        return new LocalLease();
    }

    /** {@code fabric.registry.instances{state}}, refreshed by a cheap count every few seconds. */
    @Bean
    InstanceGauges instanceGauges(InstanceRepository instances, MeterRegistry meters) {
        return new InstanceGauges(instances, meters);
    }

    /** Counts instances by state for the metrics, at most every five seconds. */
    public static final class InstanceGauges {
        private final InstanceRepository instances;
        private final AtomicReference<Map<InstanceState, Long>> counts = new AtomicReference<>(Map.of());
        private volatile long readAt;

        InstanceGauges(InstanceRepository instances, MeterRegistry meters) {
            this.instances = instances;
            for (InstanceState state : InstanceState.values()) {
                Gauge.builder("fabric.registry.instances", this, gauges -> gauges.count(state))
                        .tag("state", state.name()).description("registered instances by state").register(meters);
            }
        }

        private double count(InstanceState state) {
            long now = System.nanoTime();
            if (now - readAt > Duration.ofSeconds(5).toNanos()) {
                readAt = now;
                try {
                    counts.set(instances.countByState());
                } catch (RuntimeException e) {
                    return Double.NaN;
                }
            }
            return counts.get().getOrDefault(state, 0L);
        }
    }
}
