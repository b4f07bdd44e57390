package dev.fabric.core.registry;

import java.time.Duration;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * When a member tries its registration again (docs/registry.md#registering): the registry refused it
 * for the moment, and a member that gives up there never starts. A {@code 503} (the registry is
 * busy, its database does not answer) is tried again after the {@code Retry-After} it names, or 1 s,
 * doubled on each later refusal up to 8 s, plus a random part of as much again, so that members
 * refused together do not come back together. A {@code 401 expired} is a signed request that aged
 * past the clock-skew window on its way (a starved sender or registry): it is signed afresh and sent
 * again after a short random pause. Anything else (a bad request, a conflict, an unreachable
 * registry) is the caller's to handle. No attempt starts after {@code budget} has passed.
 *
 * @param budget how long after the first attempt a new one may still start
 * @param random a number in [0, 1) for the jitter
 */
public record RegistrationRetry(Duration budget, DoubleSupplier random) {

    /** What {@link RegistryClient#register} uses. */
    public static final Duration BUDGET = Duration.ofSeconds(60);
    static final Duration FIRST = Duration.ofSeconds(1);
    static final Duration LONGEST = Duration.ofSeconds(8);

    /**
     * How long to wait before attempt {@code attempt + 1}, after attempt {@code attempt} (from 1)
     * failed so, {@code elapsed} after the first began; empty: do not try again.
     */
    public Optional<Duration> after(RegistryCallException failure, int attempt, Duration elapsed) {
        Duration base;
        if (failure.status() == 503) {
            Duration doubled = FIRST.multipliedBy(1L << Math.min(attempt - 1, 3));
            base = failure.retryAfter().filter(named -> named.compareTo(doubled) > 0).orElse(doubled);
            base = base.compareTo(LONGEST) > 0 ? LONGEST : base;
        } else if (failure.status() == 401 && "expired".equals(failure.reason())) {
            base = Duration.ofMillis(200);
        } else {
            return Optional.empty();
        }
        Duration wait = base.plusMillis((long) (random.getAsDouble() * base.toMillis()));
        return elapsed.plus(wait).compareTo(budget) > 0 ? Optional.empty() : Optional.of(wait);
    }
}
