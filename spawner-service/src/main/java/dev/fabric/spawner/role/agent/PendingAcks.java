package dev.fabric.spawner.role.agent;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The leases of finished tasks (their final events published), waiting to be acknowledged. Two take
 * them: the agent's next lease request carries them (the queue acks them, one forced write, before it
 * leases: one request where there were two), and the acker sends those no lease request took within
 * {@code carryWait} on their own ({@code POST /queue/v1/acks}), so an idle agent, whose lease request
 * is a long poll, does not hold them. A request that fails gives back what it carried, first in line
 * and due at once: an ack is never dropped, only repeated (a repeated ack is a no-op at the queue).
 *
 * @param <L> a lease as the agent holds it
 */
final class PendingAcks<L> {

    private record Pending<L>(L lease, long dueNanos) {}

    private final Duration carryWait;
    private final LongSupplier nanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final Deque<Pending<L>> pending = new ArrayDeque<>();
    /** Everything is due at once: the agent stops, or its queue takes no acks on a lease request. */
    private boolean hurry;

    PendingAcks(Duration carryWait, LongSupplier nanos) {
        this.carryWait = carryWait;
        this.nanos = nanos;
    }

    /** A finished task's lease, to be acknowledged. */
    void add(L lease) {
        lock.lock();
        try {
            pending.addLast(new Pending<>(lease, nanos.getAsLong() + carryWait.toNanos()));
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** For a lease request to carry: up to {@code max} of the pending leases, oldest first (none, often). */
    List<L> carry(int max) {
        lock.lock();
        try {
            List<L> taken = new ArrayList<>(Math.min(max, pending.size()));
            while (taken.size() < max && !pending.isEmpty()) {
                taken.add(pending.pollFirst().lease());
            }
            return taken;
        } finally {
            lock.unlock();
        }
    }

    /** The request that carried {@code leases} failed (or was not understood): they are pending again, first in line and due now. */
    void putBack(List<L> leases) {
        if (leases.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            long now = nanos.getAsLong();
            for (int i = leases.size() - 1; i >= 0; i--) {
                pending.addFirst(new Pending<>(leases.get(i), now));
            }
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** From now on, every lease is due at once: no lease request will carry them (stopping, or a queue that does not take them). */
    void hurry() {
        lock.lock();
        try {
            hurry = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * For the acker: up to {@code max} pending leases, oldest first, as soon as the oldest is due
     * (no lease request took it in time); waits for that.
     */
    List<L> takeDue(int max) throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                List<L> due = due(max);
                if (!due.isEmpty()) {
                    return due;
                }
                Pending<L> first = pending.peekFirst();
                if (first == null) {
                    arrived.await();
                } else {
                    arrived.awaitNanos(first.dueNanos() - nanos.getAsLong());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@link #takeDue}'s decision, without waiting: the pending leases when the oldest is due, else none. */
    List<L> due(int max) {
        lock.lock();
        try {
            Pending<L> first = pending.peekFirst();
            if (first == null || (!hurry && first.dueNanos() - nanos.getAsLong() > 0)) {
                return List.of();
            }
            return carry(max);
        } finally {
            lock.unlock();
        }
    }

    boolean isEmpty() {
        lock.lock();
        try {
            return pending.isEmpty();
        } finally {
            lock.unlock();
        }
    }
}
