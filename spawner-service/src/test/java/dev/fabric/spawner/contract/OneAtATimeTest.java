package dev.fabric.spawner.contract;

import org.junit.jupiter.api.Test;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class OneAtATimeTest {

    @Test
    void aTickWhileThePreviousRunIsGoingIsSkipped() throws InterruptedException {
        OneAtATime task = new OneAtATime();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread first = Thread.ofVirtual().start(() -> task.run(() -> {
            inside.countDown();
            awaitQuietly(release);
        }));
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(task.run(() -> { })).isFalse();
        release.countDown();
        first.join();
        assertThat(task.run(() -> { })).isTrue();
    }

    /**
     * The scheduler Spring Boot builds when virtual threads are on: a supervision round blocked (a
     * restart over SSH, say) does not hold back the heartbeat, as a fixed-delay task on its single
     * scheduler thread would.
     */
    @Test
    void aBlockedRoundDoesNotHoldBackTheHeartbeat() {
        try (SimpleAsyncTaskScheduler scheduler = new SimpleAsyncTaskScheduler()) {
            scheduler.setVirtualThreads(true);
            OneAtATime rounds = new OneAtATime();
            OneAtATime heartbeats = new OneAtATime();
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger roundsStarted = new AtomicInteger();
            AtomicInteger beats = new AtomicInteger();
            scheduler.scheduleAtFixedRate(() -> rounds.run(() -> {
                roundsStarted.incrementAndGet();
                awaitQuietly(release);
            }), Duration.ofMillis(20));
            scheduler.scheduleAtFixedRate(() -> heartbeats.run(beats::incrementAndGet), Duration.ofMillis(20));

            await().atMost(Duration.ofSeconds(30)).until(() -> beats.get() >= 5);
            assertThat(roundsStarted).hasValue(1);
            release.countDown();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
