package dev.fabric.core.sse;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The places of streams, with probes standing in for the writes to clients' connections. */
class StreamSlotsTest {

    static final Duration PATIENCE = Duration.ofSeconds(1);

    @Test
    void placesAreGivenWhileFreeAndCountedWhileTaken() throws Exception {
        StreamSlots slots = new StreamSlots(2, PATIENCE);
        StreamSlots.Slot first = slots.take().orElseThrow();
        StreamSlots.Slot second = slots.take().orElseThrow();
        assertThat(slots.inUse()).isEqualTo(2);

        first.close();
        first.close();
        assertThat(first.isOpen()).isFalse();
        assertThat(second.isOpen()).isTrue();
        assertThat(slots.inUse()).isEqualTo(1);
        // Closed twice, given back once: one place is free, not two.
        assertThat(slots.take()).isPresent();
        assertThat(new StreamSlots(1, Duration.ZERO).take().orElseThrow().isOpen()).isTrue();
    }

    @Test
    void aStreamWhoseClientLeftGivesItsPlaceToTheNextStreamAtOnce() throws Exception {
        StreamSlots slots = new StreamSlots(1, PATIENCE);
        StreamSlots.Slot left = slots.take().orElseThrow();
        CountDownLatch woken = new CountDownLatch(1);
        left.serve(() -> {
            throw new IOException("Broken pipe");
        }, woken::countDown);

        long start = System.nanoTime();
        Optional<StreamSlots.Slot> next = slots.take();

        assertThat(next).isPresent();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(PATIENCE);
        assertThat(left.isOpen()).isFalse();
        assertThat(woken.await(5, TimeUnit.SECONDS)).as("the left stream's thread is woken").isTrue();
        assertThat(slots.inUse()).isEqualTo(1);
    }

    /** A connection the client closed takes the first write (the client's side answers it with a reset) and fails the next. */
    @Test
    void aClosedConnectionThatTakesOneMoreWriteIsFoundByTheNextProbe() throws Exception {
        StreamSlots slots = new StreamSlots(1, PATIENCE);
        StreamSlots.Slot halfClosed = slots.take().orElseThrow();
        AtomicInteger writes = new AtomicInteger();
        halfClosed.serve(() -> {
            if (writes.incrementAndGet() > 1) {
                throw new IOException("Connection reset by peer");
            }
        }, () -> { });

        assertThat(slots.take()).isPresent();
        assertThat(writes.get()).isEqualTo(2);
    }

    @Test
    void whileEveryStreamIsAliveANewOneIsRefusedAfterThePatience() throws Exception {
        StreamSlots slots = new StreamSlots(1, Duration.ofMillis(400));
        StreamSlots.Slot alive = slots.take().orElseThrow();
        AtomicInteger probes = new AtomicInteger();
        alive.serve(probes::incrementAndGet, () -> { });

        long start = System.nanoTime();
        assertThat(slots.take()).isEmpty();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
        assertThat(probes.get()).isBetween(2, 5);
        assertThat(alive.isOpen()).isTrue();
    }

    /** A client that reads slowly blocks the probe's write: it is probed once at a time, and no new stream waits on it. */
    @Test
    void aStreamWhoseProbeHangsIsNotProbedAgainUntilItsWriteReturns() throws Exception {
        StreamSlots slots = new StreamSlots(1, Duration.ofMillis(400));
        StreamSlots.Slot slow = slots.take().orElseThrow();
        AtomicInteger probes = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        slow.serve(() -> {
            probes.incrementAndGet();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, () -> { });

        assertThat(slots.take()).isEmpty();
        assertThat(probes.get()).isEqualTo(1);
        release.countDown();
    }

    @Test
    void closingAllEndsEveryStreamAndWakesItsThread() throws Exception {
        StreamSlots slots = new StreamSlots(3, PATIENCE);
        AtomicInteger woken = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            slots.take().orElseThrow().serve(() -> { }, woken::incrementAndGet);
        }

        slots.closeAll();

        assertThat(woken.get()).isEqualTo(3);
        assertThat(slots.inUse()).isZero();
    }
}
