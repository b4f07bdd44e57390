package dev.fabric.spawner.spawn;

import dev.fabric.spawner.contract.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The restarts of one member within a sliding window: more than {@code maxRestarts} within
 * {@code window} is a crash loop, and the member is given up instead of restarted again. Not
 * thread-safe: its member's lock guards it.
 */
public final class CrashLoopWindow {

    private final int maxRestarts;
    private final Duration window;
    private final Deque<Instant> restarts = new ArrayDeque<>();

    public CrashLoopWindow(int maxRestarts, Duration window) {
        this.maxRestarts = maxRestarts;
        this.window = window;
    }

    /**
     * Counts a restart at {@code now}, or refuses it (and counts nothing) when {@code maxRestarts}
     * restarts already happened within the window before it.
     *
     * @return whether the restart may go ahead
     */
    public boolean admit(Instant now) {
        while (!restarts.isEmpty() && restarts.peekFirst().isBefore(now.minus(window))) {
            restarts.pollFirst();
        }
        if (restarts.size() >= maxRestarts) {
            return false;
        }
        restarts.addLast(now);
        return true;
    }

    /** How the given-up member's reason says it: {@code restarted 5 times within 5m; given up}. */
    public String givenUp() {
        return "restarted " + maxRestarts + " times within " + Durations.text(window) + "; given up";
    }
}
