package dev.fabric.registry.heartbeat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The spans in which the failure detector could not look: its pass started later than scheduled by
 * more than {@code max-local-pause} (a stop-the-world pause, a starved CPU, a stopped process). Time
 * in such a span, and in a pass that failed because the database did not answer, does not count
 * toward a member's silence, so a registry that was not running does
 * not declare dead the members whose heartbeats it could not take meanwhile (the guard Cassandra's
 * failure detector has for a "local pause", and the local health awareness of Lifeguard).
 * Only the detector's thread uses it.
 */
final class LocalPauses {

    private final Duration threshold;
    private final Duration horizon;
    private final Deque<Instant[]> spans = new ArrayDeque<>();

    /**
     * @param threshold lateness below which a pass counts as on time
     * @param horizon how far back a span can matter: the longest silence the detector acts on
     */
    LocalPauses(Duration threshold, Duration horizon) {
        this.threshold = threshold;
        this.horizon = horizon;
    }

    /**
     * A pass that was due at {@code due} started at {@code started}: a span is kept when it is later
     * than the threshold allows. Returns how late it was, or zero when on time.
     */
    Duration passStarted(Instant due, Instant started) {
        while (!spans.isEmpty() && spans.peekFirst()[1].isBefore(started.minus(horizon))) {
            spans.removeFirst();
        }
        Duration late = Duration.between(due, started);
        if (late.compareTo(threshold) <= 0) {
            return Duration.ZERO;
        }
        spans.addLast(new Instant[] {due, started});
        return late;
    }

    /**
     * A pass between {@code from} (when the last one ended) and {@code to} could not look: the
     * database refused its reads, so the registry could neither take heartbeats nor judge silences.
     * Successive failed passes make one span: the outage.
     */
    void couldNotLook(Instant from, Instant to) {
        if (!to.isAfter(from)) {
            return;
        }
        Instant[] last = spans.peekLast();
        if (last != null && !last[1].isBefore(from)) {
            // One outage is one span, kept until its end is past the horizon, however many passes it took.
            last[1] = last[1].isAfter(to) ? last[1] : to;
        } else {
            spans.addLast(new Instant[] {from, to});
        }
    }

    /** How much of {@code from} to {@code to} the detector spent unable to look. */
    Duration within(Instant from, Instant to) {
        Duration total = Duration.ZERO;
        for (Instant[] span : spans) {
            Instant start = span[0].isAfter(from) ? span[0] : from;
            Instant end = span[1].isBefore(to) ? span[1] : to;
            if (end.isAfter(start)) {
                total = total.plus(Duration.between(start, end));
            }
        }
        return total;
    }
}
