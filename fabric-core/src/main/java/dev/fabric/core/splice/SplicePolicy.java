package dev.fabric.core.splice;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Which path a new connection to a member in mode 4 takes, after its bootstrap (docs/connectivity.md,
 * "Reaching a mode 4 member after its bootstrap"): the decisions of a {@link SpliceGateway}, apart from
 * its sockets, so they are tested without a network.
 *
 * <ul>
 *   <li>A spare spliced connection (one an upgrade made) is taken first.</li>
 *   <li>While no splice has failed since the last one that worked (or none was tried yet), a new
 *       connection is spliced on demand, at once; a splice that fails sends that connection through
 *       the bridge instead.</li>
 *   <li>Once one has failed, new connections go through the bridge without waiting, and splices are
 *       retried in the background on the {@link #RETRIES} schedule (libp2p's DCUtR upgrades a relayed
 *       connection the same way); the first that works ends the retries, and new requests take it.</li>
 * </ul>
 *
 * Not thread-safe: its gateway guards it.
 */
public final class SplicePolicy {

    /** The waits before each background retry after a failed splice: 5 s, 15 s, 30 s, 1 min, 2 min, then every 5 min. */
    public static final List<Duration> RETRIES = List.of(Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30),
            Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5));

    /** What to do with a new connection. */
    public enum Decision {
        /** Take the spare spliced connection. */
        SPARE,
        /** Splice one now, and wait for it; through the bridge if that fails. */
        SPLICE_NOW,
        /** Through the bridge, without waiting for a splice. */
        RELAY
    }

    private int failures;
    private Instant nextRetry;
    private boolean retrying;

    /** The decision for a connection that arrives at {@code now}. */
    public Decision decide(boolean spareAvailable) {
        if (spareAvailable) {
            return Decision.SPARE;
        }
        return failures == 0 ? Decision.SPLICE_NOW : Decision.RELAY;
    }

    /** A splice worked: the retries end, and the next connection without a spare splices at once. */
    public void spliced() {
        failures = 0;
        nextRetry = null;
        retrying = false;
    }

    /** A splice failed at {@code now}: the next retry is due after the schedule's next wait. */
    public void failed(Instant now) {
        failures++;
        retrying = false;
        nextRetry = now.plus(RETRIES.get(Math.min(failures, RETRIES.size()) - 1));
    }

    /** Consecutive failed splices since the last that worked. */
    public int failures() {
        return failures;
    }

    /** When the next background retry is due; null while none is (no failure, or one is running). */
    public Instant nextRetry() {
        return retrying ? null : nextRetry;
    }

    /** Whether a background retry should start at {@code now}; when true, it is taken as started. */
    public boolean retryDue(Instant now) {
        if (failures == 0 || retrying || nextRetry == null || now.isBefore(nextRetry)) {
            return false;
        }
        retrying = true;
        return true;
    }
}
