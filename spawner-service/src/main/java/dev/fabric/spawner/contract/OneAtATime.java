package dev.fabric.spawner.contract;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A periodic task that runs at a fixed rate, each run on a thread of its own, and skips a tick while
 * its previous run is still going. With virtual threads on, Spring runs every fixed-delay task on one
 * scheduler thread, so a supervision round that restarts members (an SSH launch staging a runtime
 * takes longer than the registry's dead threshold) would hold back the heartbeats behind it; fixed-rate
 * tasks each get a thread, and this keeps a slow run from overlapping the next.
 */
public final class OneAtATime {

    private final AtomicBoolean running = new AtomicBoolean();

    /** Runs {@code task} unless a previous run has not ended; returns whether it ran. */
    public boolean run(Runnable task) {
        if (!running.compareAndSet(false, true)) {
            return false;
        }
        try {
            task.run();
            return true;
        } finally {
            running.set(false);
        }
    }
}
