package dev.fabric.spawner.spawn;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many members this node starts at once. A starting member's JVM keeps one CPU busy for
 * seconds (about 4 CPU-seconds with its AOT cache: docs/benchmarks.md, "Start-up and memory"), so
 * twenty launched at once on two CPUs share them, and each takes about as long as all of them
 * together: past the bootstrap timeout, which then fails them all. A launch on this node first takes
 * a slot here, waiting while all are taken (the member PENDING meanwhile), so its bootstrap timeout
 * starts when its JVM does; the slot is given back when the member is RUNNING, its bootstrap failed,
 * or its launch did.
 */
final class StartingSlots {

    private final Semaphore free;
    private final int size;

    /** @param size slots; 0 or less: one per CPU of this node */
    StartingSlots(int size) {
        this.size = size > 0 ? size : Runtime.getRuntime().availableProcessors();
        this.free = new Semaphore(this.size, true);
    }

    int size() {
        return size;
    }

    /** Whether a slot is free now. */
    boolean hasFree() {
        return free.availablePermits() > 0;
    }

    /** Members waiting for a slot now. */
    int waiting() {
        return free.getQueueLength();
    }

    /** Takes a slot, waiting for one (first come, first served) while all are taken. */
    Slot take() throws InterruptedException {
        free.acquire();
        return new Slot(free);
    }

    /** A slot held; given back once, by whichever comes first of the bootstrap's end and the launch's failure. */
    static final class Slot implements AutoCloseable {

        /** No slot: a launch that starts nothing on this node (a pod, another host). */
        static final Slot NONE = new Slot(null);

        private final Semaphore owner;
        private final AtomicBoolean held = new AtomicBoolean(true);

        private Slot(Semaphore owner) {
            this.owner = owner;
        }

        @Override
        public void close() {
            if (owner != null && held.compareAndSet(true, false)) {
                owner.release();
            }
        }
    }
}
