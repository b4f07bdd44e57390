package dev.fabric.registry.rendezvous;

import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * {@code fabric.registry.rendezvous.*}: the brokering of TCP splices (connectivity mode 4).
 *
 * @param ttl how long a rendezvous waits for both sides when its opener names no time (default 60 s)
 * @param maxTtl the longest an opener may ask for (default 5 min)
 * @param startDelay how far ahead of the second join both sides are told to start dialing: long
 *     enough for the first side's next poll to learn it (default 300 ms)
 * @param maxOpen rendezvous open at once; more are refused {@code 503 rendezvous-full} (default 1000)
 */
@Validated
@ConfigurationProperties("fabric.registry.rendezvous")
public record RendezvousProperties(
        @DefaultValue("60s") Duration ttl,
        @DefaultValue("5m") Duration maxTtl,
        @DefaultValue("300ms") Duration startDelay,
        @DefaultValue("1000") @Min(1) int maxOpen) {
}
