package dev.fabric.core.signature;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Remembers the nonces of accepted signatures until their {@code created} time leaves the skew
 * window, so a captured request cannot be sent again while it would still pass the time check.
 *
 * <p>The cache is bounded. It never forgets a nonce that is still inside the window to make room:
 * when it is full of live nonces it refuses new requests with {@link Rejection#REPLAY_CACHE_FULL},
 * which is safe (the caller retries) where forgetting would allow a replay.
 */
public final class ReplayCache {

    private final int capacity;
    private final Clock clock;
    private final ConcurrentHashMap<String, Long> expiries = new ConcurrentHashMap<>();
    private final AtomicInteger insertsSinceSweep = new AtomicInteger();

    public ReplayCache(int capacity, Clock clock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("replay cache capacity must be positive, was " + capacity);
        }
        this.capacity = capacity;
        this.clock = clock;
    }

    /**
     * Records the nonce and tells whether this is its first use.
     *
     * @param expiresAt when the nonce's signature can no longer pass the skew check
     * @throws SignatureRejectedException {@link Rejection#REPLAY_CACHE_FULL} when no room is left
     */
    public boolean firstUse(String keyId, String nonce, Instant expiresAt) {
        if (expiries.size() >= capacity || insertsSinceSweep.incrementAndGet() >= Math.max(1024, capacity / 8)) {
            sweep();
            if (expiries.size() >= capacity) {
                throw new SignatureRejectedException(Rejection.REPLAY_CACHE_FULL,
                        "the replay cache holds " + capacity + " live nonces; retry shortly");
            }
        }
        String key = keyId.length() + ":" + keyId + nonce;
        return expiries.putIfAbsent(key, expiresAt.toEpochMilli()) == null;
    }

    /** Forgets every nonce whose window has passed. */
    public void sweep() {
        insertsSinceSweep.set(0);
        long now = clock.millis();
        expiries.values().removeIf(expiry -> expiry < now);
    }

    /** How many nonces are remembered now. */
    public int size() {
        return expiries.size();
    }
}
