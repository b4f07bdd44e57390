package dev.fabric.registry.watch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one reader of the change log that every watch stream shares: it polls the database for new
 * changes (every {@code poll-interval}) and keeps the latest {@value #BUFFERED} in memory, so a
 * stream that has caught up waits here instead of polling the database itself. However many
 * watchers there are, the database sees one poll per interval, and the pool of connections
 * stays free for registrations and heartbeats.
 *
 * <p>A stream further behind than the buffer (resuming from an old revision) reads the change log
 * directly until it reaches what the buffer holds.
 */
@Component
public class ChangeFeed implements SmartLifecycle {

    static final int BUFFERED = 2000;
    private static final int BATCH = 500;
    private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);

    private final ChangeLog changes;
    private final Duration pollInterval;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<ChangeEvent> recent = new ArrayDeque<>();
    private long head;
    private boolean initialized;
    private volatile Thread reader;

    public ChangeFeed(ChangeLog changes, WatchController.WatchProperties properties) {
        this.changes = changes;
        this.pollInterval = properties.pollInterval();
    }

    /**
     * The changes after {@code revision}, at most {@code limit}, waiting up to {@code wait} while
     * there are none (then the answer is empty).
     *
     * @return the changes, or {@code null} when {@code revision} is older than the buffer: read those from the log
     */
    public List<ChangeEvent> after(long revision, int limit, Duration wait) throws InterruptedException {
        lock.lock();
        try {
            if (!initialized) {
                return null;
            }
            long remaining = wait.toNanos();
            while (revision >= head && remaining > 0) {
                remaining = arrived.awaitNanos(remaining);
            }
            if (revision >= head) {
                return List.of();
            }
            if (recent.isEmpty() || recent.peekFirst().revision() > revision + 1) {
                return null;
            }
            List<ChangeEvent> events = new ArrayList<>(Math.min(limit, recent.size()));
            for (ChangeEvent event : recent) {
                if (event.revision() > revision) {
                    events.add(event);
                    if (events.size() == limit) {
                        break;
                    }
                }
            }
            return events;
        } finally {
            lock.unlock();
        }
    }

    private void read() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                if (!isInitialized()) {
                    long current = changes.currentRevision();
                    lock.lock();
                    try {
                        head = current;
                        initialized = true;
                    } finally {
                        lock.unlock();
                    }
                }
                List<ChangeEvent> batch = changes.after(headNow(), BATCH);
                if (!batch.isEmpty()) {
                    publish(batch);
                }
                if (batch.size() < BATCH) {
                    TimeUnit.NANOSECONDS.sleep(pollInterval.toNanos());
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The database is away: streams wait (and send keep-alives) until it is back.
                log.debug("the change feed cannot read the change log: {}", e.getMessage());
                try {
                    TimeUnit.NANOSECONDS.sleep(pollInterval.toNanos());
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private boolean isInitialized() {
        lock.lock();
        try {
            return initialized;
        } finally {
            lock.unlock();
        }
    }

    private long headNow() {
        lock.lock();
        try {
            return head;
        } finally {
            lock.unlock();
        }
    }

    private void publish(List<ChangeEvent> batch) {
        lock.lock();
        try {
            for (ChangeEvent event : batch) {
                recent.addLast(event);
                if (recent.size() > BUFFERED) {
                    recent.removeFirst();
                }
            }
            head = batch.getLast().revision();
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Until the feed has read the current revision (the database may be away at start), streams read the log. */
    @Override
    public void start() {
        reader = Thread.ofVirtual().name("change-feed").start(this::read);
    }

    @Override
    public void stop() {
        Thread running = reader;
        reader = null;
        if (running != null) {
            running.interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return reader != null;
    }

    /** Starts before the watch streams and stops after them. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 1;
    }
}
