package dev.fabric.spawner.role.agent;

import java.time.Duration;

/**
 * How many leased tasks an agent may hold, running or waiting for a slot: at least {@code prefetch}
 * per slot, and while its tasks are short as many as its slots run in the {@code horizon} (up to
 * {@value #MOST_PER_SLOT} per slot). So a stream of quick tasks comes in a few large lease requests
 * instead of one per task or two, while no agent holds more than about a horizon's work that another
 * agent with a free slot could have run. How long a task takes is the moving average of the time its
 * slot spent on it (start to final event handed to the publisher); until the first one ends, it is
 * not known, and the agent holds {@code prefetch} per slot.
 */
final class Room {

    /** The most leased tasks held per slot, however short the tasks. */
    static final int MOST_PER_SLOT = 256;
    /** The most a {@code prefetch} may be. */
    static final int MOST_PREFETCH = 64;
    /** The weight of the latest task in the moving average of task durations. */
    private static final double WEIGHT = 0.05;

    private final int slots;
    private final int prefetch;
    private final long horizonNanos;
    private int held;
    /** The moving average of a task's time in its slot, in nanoseconds; 0 until a task ended. */
    private double averageNanos;

    /**
     * @param slots    the agent's slots (cores)
     * @param prefetch leased tasks held per slot, whatever the tasks take (1 to {@value #MOST_PREFETCH})
     * @param horizon  how much work a slot may hold in leases when its tasks are short; zero holds {@code prefetch} per slot always
     */
    Room(int slots, int prefetch, Duration horizon) {
        if (slots < 1 || prefetch < 1 || prefetch > MOST_PREFETCH || horizon.isNegative()) {
            throw new IllegalArgumentException("slots " + slots + ", prefetch " + prefetch + ", horizon " + horizon);
        }
        this.slots = slots;
        this.prefetch = prefetch;
        this.horizonNanos = horizon.toNanos();
    }

    /**
     * Waits until it is time to lease, then takes all the room there is, up to {@code most}: how many
     * tasks to lease now. It is time as soon as a place is free while the agent holds {@code prefetch}
     * per slot; above that, once it holds half its limit or less, so that quick tasks come in requests of
     * half the limit rather than one for each task that ended while the last request was under way.
     */
    synchronized int take(int most) throws InterruptedException {
        while (held > Math.max(slots * prefetch - 1, limit() / 2)) {
            wait();
        }
        int room = Math.min(most, limit() - held);
        held += room;
        return room;
    }

    /** Gives back the places of {@code count} tasks: leased and ended, or asked for and not leased. */
    synchronized void release(int count) {
        if (count > 0) {
            held = Math.max(0, held - count);
            notifyAll();
        }
    }

    void release() {
        release(1);
    }

    /** A task spent {@code nanos} in its slot: the average moves, and with it how many tasks the agent may hold. */
    synchronized void ran(long nanos) {
        averageNanos = averageNanos == 0 ? nanos : averageNanos + WEIGHT * (nanos - averageNanos);
        notifyAll();
    }

    /** How many leased tasks the agent may hold now. */
    synchronized int limit() {
        if (horizonNanos == 0 || averageNanos == 0) {
            return slots * prefetch;
        }
        double fits = Math.ceil(horizonNanos / Math.max(1.0, averageNanos));
        return slots * (int) Math.max(prefetch, Math.min(MOST_PER_SLOT, fits));
    }

    /** The leased tasks held now, as counted here: with the places a lease request under way asked for. */
    synchronized int held() {
        return held;
    }

    /** The moving average of a task's time in its slot; zero until a task ended. */
    synchronized Duration averageTask() {
        return Duration.ofNanos((long) averageNanos);
    }
}
