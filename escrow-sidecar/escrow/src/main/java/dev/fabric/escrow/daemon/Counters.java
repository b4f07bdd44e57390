package dev.fabric.escrow.daemon;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/** Sessions served and errors by reason, for the stats view and metrics. */
final class Counters {

    final LongAdder sessions = new LongAdder();
    private final Map<Rejection, LongAdder> errors = new EnumMap<>(Rejection.class);

    Counters() {
        for (Rejection r : Rejection.values()) {
            errors.put(r, new LongAdder());
        }
    }

    void count(Rejection rejection) {
        errors.get(rejection).increment();
    }

    long errors(Rejection rejection) {
        return errors.get(rejection).sum();
    }

    Map<String, Long> nonZeroErrors() {
        Map<String, Long> out = new TreeMap<>();
        errors.forEach((r, n) -> {
            long v = n.sum();
            if (v > 0) {
                out.put(r.label(), v);
            }
        });
        return out;
    }
}
