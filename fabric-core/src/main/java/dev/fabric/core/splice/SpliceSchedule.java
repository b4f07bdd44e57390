package dev.fabric.core.splice;

import java.time.Duration;

/**
 * When the two sides of a splice ask and dial (docs/connectivity.md, mode 4):
 *
 * <ol>
 *   <li>each side asks the registry every {@code poll} over its one kept connection until both have
 *       joined, or {@code patience} has passed (the peer never arrived);</li>
 *   <li>both wait the start delay the registry gave, so their first SYNs leave together;</li>
 *   <li>each dials the other's observed address from its bound port, each attempt waiting at most
 *       {@code connectTimeout} (one SYN: Linux retransmits after one second), again at once after a
 *       timeout and after {@code afterReset} when the attempt was reset, until {@code window} has passed.</li>
 * </ol>
 *
 * A reset does not end the dialing: the peer's SYN may still cross ours on a later attempt (a
 * resetting NAT); only the window does.
 */
public record SpliceSchedule(Duration poll, Duration patience, Duration connectTimeout, Duration afterReset, Duration window) {

    /** 100 ms, 30 s, 1 s, 200 ms, 10 s. */
    public static final SpliceSchedule DEFAULT = new SpliceSchedule(Duration.ofMillis(100), Duration.ofSeconds(30),
            Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofSeconds(10));

    /**
     * A caller's splice with a running member, made on demand for its requests (docs/connectivity.md):
     * 100 ms, 5 s, 1 s, 200 ms, 2 s. Short, since the request waits for it and the bridge is there
     * when it fails: a member asked through its bridge joins within a second, and two easy NATs
     * splice at the first SYN.
     */
    public static final SpliceSchedule ON_DEMAND = new SpliceSchedule(Duration.ofMillis(100), Duration.ofSeconds(5),
            Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofSeconds(2));

    public SpliceSchedule {
        for (Duration duration : new Duration[] {poll, patience, connectTimeout, afterReset, window}) {
            if (duration == null || duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("every duration of a splice schedule must be positive: " + duration);
            }
        }
    }

    /** The same schedule with another patience for the peer to arrive. */
    public SpliceSchedule withPatience(Duration newPatience) {
        return new SpliceSchedule(poll, newPatience, connectTimeout, afterReset, window);
    }

    /** The same schedule with another dialing window. */
    public SpliceSchedule withWindow(Duration newWindow) {
        return new SpliceSchedule(poll, patience, connectTimeout, afterReset, newWindow);
    }
}
