package dev.fabric.registry.heartbeat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The spans in which the failure detector could not look: the registry did not run (a
 * stop-the-world pause, a starved CPU, a stopped process), or the database refused the detector's
 * passes. Time in such a span does not count toward a member's silence, so a registry that was not
 * running does not declare dead the members whose heartbeats it could not take meanwhile (the guard
 * Cassandra's failure detector has for a "local pause", and the local health awareness of Lifeguard).
 *
 * <p>Whether the registry ran is judged from {@linkplain #observed observations} of the clock: a
 * watch thread makes one every small tick, and the detector one as it starts a pass and one right
 * before it judges silences. Two successive observations further apart than the threshold mean the
 * process did not run between them, wherever it was stopped (a pass stopped half-way through is
 * seen by the observation that follows it). Because the detector observes right before judging, a
 * stop that ended a moment ago is recorded before any silence is measured across it.
 * Safe for the watch thread and the detector's thread together.
 */
final class LocalPauses {

    private final Duration threshold;
    private final Duration horizon;
    /** Disjoint spans, in order. */
    private final List<Instant[]> spans = new ArrayList<>();
    private Instant lastObserved;

    /**
     * @param threshold gap between two observations below which the registry counts as running
     * @param horizon how far back a span can matter: the longest silence the detector acts on
     */
    LocalPauses(Duration threshold, Duration horizon) {
        this.threshold = threshold;
        this.horizon = horizon;
    }

    /**
     * The clock read {@code now} on a thread that runs when the registry runs. When the last
     * observation is more than the threshold before it, the span between them is kept and its length
     * returned; otherwise zero. An observation older than the last (two threads racing) changes nothing.
     */
    synchronized Duration observed(Instant now) {
        spans.removeIf(span -> span[1].isBefore(now.minus(horizon)));
        Instant last = lastObserved;
        if (last == null || !now.isAfter(last)) {
            lastObserved = last == null ? now : last;
            return Duration.ZERO;
        }
        lastObserved = now;
        Duration gap = Duration.between(last, now);
        if (gap.compareTo(threshold) <= 0) {
            return Duration.ZERO;
        }
        add(last, now);
        return gap;
    }

    /**
     * A pass between {@code from} (when the last one ended) and {@code to} could not look: the
     * database refused its reads, so the registry could neither take heartbeats nor judge silences.
     * Successive failed passes make one span: the outage.
     */
    synchronized void couldNotLook(Instant from, Instant to) {
        if (to.isAfter(from)) {
            add(from, to);
        }
    }

    /** Adds a span, merged with every span it touches, so no time is counted twice. */
    private void add(Instant from, Instant to) {
        Instant start = from;
        Instant end = to;
        int at = 0;
        for (var it = spans.iterator(); it.hasNext(); ) {
            Instant[] span = it.next();
            if (span[1].isBefore(start)) {
                at++;
            } else if (!span[0].isAfter(end)) {
                start = span[0].isBefore(start) ? span[0] : start;
                end = span[1].isAfter(end) ? span[1] : end;
                it.remove();
            } else {
                break;
            }
        }
        spans.add(at, new Instant[] {start, end});
    }

    /** How much of {@code from} to {@code to} the detector spent unable to look. */
    synchronized Duration within(Instant from, Instant to) {
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
