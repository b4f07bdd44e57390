package dev.fabric.spawner.role.bridge;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When a bridge reads its routes from the registry again, for a request to an authority its routes
 * do not know: at once for an authority it has not missed lately, so a member that registered a
 * moment after the last read is relayed to on its first request (not refused {@code bridge-no-route},
 * which its callers take for an unreachable member and have it restarted); for one it missed, at most
 * once per {@code interval}, so requests asked again every few milliseconds for a member whose
 * channel is not open yet (a spawner's bootstrap through the bridge) do not each list the registry.
 */
final class RouteRefresh {

    /** Beyond this many missed authorities the oldest knowledge is dropped: an authority missed again is read again. */
    static final int MAX_MISSED = 10_000;

    private final long intervalNanos;
    private final Map<String, Long> missed = new ConcurrentHashMap<>();

    RouteRefresh(Duration interval) {
        this.intervalNanos = interval.toNanos();
    }

    /** Whether a request to {@code authority}, which the routes do not know, reads them again (at {@code now}, nanoseconds). */
    boolean readAgain(String authority, long now) {
        Long at = missed.get(authority);
        return at == null || now - at >= intervalNanos;
    }

    /** The routes read at {@code now} do not know {@code authority} either. */
    void missed(String authority, long now) {
        if (missed.size() >= MAX_MISSED) {
            missed.clear();
        }
        missed.put(authority, now);
    }

    /** The routes know {@code authority} now. */
    void found(String authority) {
        missed.remove(authority);
    }
}
