package dev.fabric.registry.watch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shared change feed: one reader polls the change log; caught-up streams take changes from it
 * without reading the log themselves, in order; a stream behind the buffer is told to read the log.
 */
class ChangeFeedTest {

    /** A change log in memory that counts who reads it. */
    static final class MemoryLog extends ChangeLog {
        final List<ChangeEvent> events = new CopyOnWriteArrayList<>();
        final AtomicInteger readsByOthers = new AtomicInteger();

        MemoryLog() {
            super(null, null, null);
        }

        void add(int count) {
            for (int i = 0; i < count; i++) {
                long revision = events.size() + 1;
                events.add(new ChangeEvent(revision, "i-" + revision, ChangeEvent.Kind.STATE, "{}", Instant.EPOCH));
            }
        }

        @Override
        public long currentRevision() {
            return events.size();
        }

        @Override
        public List<ChangeEvent> after(long revision, int limit) {
            if (!Thread.currentThread().getName().equals("change-feed")) {
                readsByOthers.incrementAndGet();
            }
            return events.stream().filter(e -> e.revision() > revision).limit(limit).toList();
        }
    }

    final MemoryLog log = new MemoryLog();
    final ChangeFeed feed = new ChangeFeed(log, new WatchController.WatchProperties(Duration.ofMillis(10), Duration.ofSeconds(15), 100_000, 200));

    @AfterEach
    void stop() {
        feed.stop();
    }

    @Test
    void caughtUpStreamsShareTheFeedsReadsAndSeeEveryChangeInOrder() throws Exception {
        log.add(3);
        feed.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> feed.after(3, 10, Duration.ZERO) != null);

        List<Thread> streams = new ArrayList<>();
        List<List<Long>> seen = new CopyOnWriteArrayList<>();
        for (int s = 0; s < 20; s++) {
            streams.add(Thread.ofVirtual().start(() -> {
                List<Long> revisions = new ArrayList<>();
                long last = 3;
                try {
                    while (revisions.size() < 50) {
                        List<ChangeEvent> batch = feed.after(last, 7, Duration.ofSeconds(10));
                        assertThat(batch).isNotNull();
                        for (ChangeEvent event : batch) {
                            revisions.add(event.revision());
                            last = event.revision();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seen.add(revisions);
            }));
        }
        for (int i = 0; i < 10; i++) {
            log.add(5);
            Thread.sleep(5);
        }
        for (Thread stream : streams) {
            stream.join(Duration.ofSeconds(20));
        }

        List<Long> expected = new ArrayList<>();
        for (long r = 4; r <= 53; r++) {
            expected.add(r);
        }
        assertThat(seen).hasSize(20).allSatisfy(revisions -> assertThat(revisions).isEqualTo(expected));
        assertThat(log.readsByOthers).hasValue(0);
    }

    @Test
    void aStreamBehindTheBufferIsToldToReadTheLog() throws Exception {
        log.add(ChangeFeed.BUFFERED + 10);
        feed.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> feed.after(log.currentRevision(), 1, Duration.ZERO) != null);
        log.add(ChangeFeed.BUFFERED + 10);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<ChangeEvent> latest = feed.after(log.currentRevision() - 1, 1, Duration.ZERO);
            return latest != null && !latest.isEmpty();
        });
        assertThat(feed.after(0, 10, Duration.ZERO)).isNull();
        assertThat(feed.after(log.currentRevision() - 5, 10, Duration.ZERO)).extracting(ChangeEvent::revision)
                .containsExactly(log.currentRevision() - 4, log.currentRevision() - 3, log.currentRevision() - 2,
                        log.currentRevision() - 1, log.currentRevision());
    }

    @Test
    void beforeTheFeedHasReadTheLogStreamsReadTheLog() throws Exception {
        assertThat(feed.after(0, 10, Duration.ZERO)).isNull();
    }
}
