package dev.fabric.registry.heartbeat;

import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * {@code fabric.registry.heartbeat.*}: how often members heartbeat and when the registry gives up on them.
 *
 * @param interval how often a RUNNING member heartbeats (default 2 s)
 * @param suspectAfter missed heartbeats before an instance is SUSPECT (default 3)
 * @param deadAfter missed heartbeats before it is DEAD (default 5)
 * @param detectorPeriod how often the failure detector looks (default a quarter of the interval)
 * @param sessionTtl how long a heartbeat stream's session lasts before the member must open another
 *     with a fresh signed handshake (default 1 h)
 * @param maxLocalPause how long the registry may go without running (two of its reads of the clock
 *     further apart: a pause, a starved CPU, a stopped process) before that time is left out of every
 *     member's silence (default one interval)
 */
@Validated
@ConfigurationProperties("fabric.registry.heartbeat")
public record HeartbeatProperties(
        @DefaultValue("2s") Duration interval,
        @DefaultValue("3") @Min(1) int suspectAfter,
        @DefaultValue("5") @Min(1) int deadAfter,
        Duration detectorPeriod,
        @DefaultValue("1h") Duration sessionTtl,
        Duration maxLocalPause) {

    public HeartbeatProperties {
        if (deadAfter < suspectAfter) {
            throw new IllegalArgumentException("fabric.registry.heartbeat.dead-after (" + deadAfter
                    + ") must not be smaller than suspect-after (" + suspectAfter + ")");
        }
        if (detectorPeriod == null) {
            detectorPeriod = interval.dividedBy(4);
        }
        if (maxLocalPause == null) {
            maxLocalPause = interval;
        }
        if (!maxLocalPause.isPositive()) {
            throw new IllegalArgumentException("fabric.registry.heartbeat.max-local-pause (" + maxLocalPause + ") must be positive");
        }
    }

    public Duration suspectThreshold() {
        return interval.multipliedBy(suspectAfter);
    }

    public Duration deadThreshold() {
        return interval.multipliedBy(deadAfter);
    }
}
