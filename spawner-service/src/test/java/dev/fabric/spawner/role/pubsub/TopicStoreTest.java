package dev.fabric.spawner.role.pubsub;

import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;
import dev.fabric.spawner.web.SpawnerException;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The topics on a real journal file: offsets, durability across a reopen, retention, compaction, damage. */
class TopicStoreTest {

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T12:00:00Z"));
    final List<TopicStore> opened = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (TopicStore store : opened) {
            store.close();
        }
    }

    TopicStore open(boolean mustExist, Map<String, String> config, int compactMinRecords) throws Exception {
        TopicStore store = TopicStore.open(dir, mustExist, clock, PubSubSettings.of(config), compactMinRecords);
        opened.add(store);
        return store;
    }

    TopicStore open(boolean mustExist) throws Exception {
        return open(mustExist, Map.of(), TopicStore.DEFAULT_COMPACT_MIN_RECORDS);
    }

    static byte[] text(String body) {
        return body.getBytes(StandardCharsets.UTF_8);
    }

    static List<String> bodies(TopicStore.Slice slice) {
        return slice.entries().stream().map(e -> new String(e.body(), StandardCharsets.UTF_8)).toList();
    }

    static List<PubSubRecord> records(Path journal) throws IOException, JournalCorruptException {
        List<PubSubRecord> records = new ArrayList<>();
        try (InputStream in = Files.newInputStream(journal)) {
            JournalDecoder.Decoded decoded = JournalDecoder.decode(PubSubJournal.CODEC, in, Files.size(journal),
                    (record, offset) -> records.add(record));
            assertThat(decoded.torn()).as("torn: %s", decoded).isFalse();
        }
        return records;
    }

    @Test
    void offsetsCountFromZeroPerTopicAndFollowOn() throws Exception {
        TopicStore store = open(false);

        assertThat(store.publish("tasks.p1", text("a"))).isZero();
        assertThat(store.publish("tasks.p1", text("b"))).isEqualTo(1);
        assertThat(store.publish("control.p1", text("x"))).isZero();
        assertThat(store.publishAll("tasks.p1", List.of(text("c"), text("d"), text("e")))).containsExactly(2L, 3L, 4L);

        TopicStore.Slice slice = store.read("tasks.p1", 1, 3);
        assertThat(slice.entries()).extracting(TopicStore.Entry::offset).containsExactly(1L, 2L, 3L);
        assertThat(bodies(slice)).containsExactly("b", "c", "d");
        assertThat(slice.next()).isEqualTo(4);
        assertThat(store.read("tasks.p1", 5, 10).entries()).isEmpty();
        assertThat(store.topics()).containsExactly(new TopicStore.TopicInfo("control.p1", 0, 1, 1),
                new TopicStore.TopicInfo("tasks.p1", 0, 5, 5));
    }

    @Test
    void aReopenedStoreServesEveryAcknowledgedMessageAndGoesOnFromTheNextOffset() throws Exception {
        TopicStore first = open(false);
        first.publish("events", text("one"));
        first.publishAll("events", List.of(text("two"), text("three")));
        first.close();

        TopicStore second = open(true);

        TopicStore.Slice slice = second.read("events", 0, 10);
        assertThat(bodies(slice)).containsExactly("one", "two", "three");
        assertThat(slice.entries()).extracting(TopicStore.Entry::at).containsOnly(clock.instant());
        assertThat(second.publish("events", text("four"))).isEqualTo(3);
    }

    @Test
    void aBulkPublishIsOneWriteOfConsecutiveRecords() throws Exception {
        TopicStore store = open(false);
        long before = store.stats().journalBytes();

        store.publishAll("bulk", List.of(text("a"), text("b")));

        assertThat(records(store.journalFile())).containsExactly(new PubSubRecord.Published("bulk", 0, clock.millis(), text("a")),
                new PubSubRecord.Published("bulk", 1, clock.millis(), text("b")));
        assertThat(store.stats().journalBytes()).isGreaterThan(before);
    }

    @Test
    void aMissingJournalOnARestartIsReportedNotCreated() {
        assertThatThrownBy(() -> open(true)).isInstanceOf(NoSuchFileException.class);
        assertThat(dir.resolve(PubSubJournal.FILE_NAME)).doesNotExist();
    }

    @Test
    void retentionByCountDropsTheOldestAndAReaderBehindItIsGoneWithTheOldestOffset() throws Exception {
        TopicStore store = open(false, Map.of(PubSubSettings.RETENTION_COUNT, "3"), 1000);
        IntStream.range(0, 5).forEach(i -> store.publish("t", text("m" + i)));

        assertThat(bodies(store.read("t", 2, 10))).containsExactly("m2", "m3", "m4");
        assertThatThrownBy(() -> store.read("t", 1, 10)).isInstanceOfSatisfying(OffsetGoneException.class, gone -> {
            assertThat(gone.oldest()).isEqualTo(2);
            assertThat(gone.status()).isEqualTo(410);
            assertThat(gone.reason()).isEqualTo("gone");
            assertThat(gone.properties()).containsEntry("oldest", 2L);
            assertThat(gone.detail()).contains("topic t no longer retains offset 1", "oldest retained message is at offset 2");
        });
        assertThat(store.topics()).containsExactly(new TopicStore.TopicInfo("t", 2, 5, 3));
    }

    @Test
    void retentionByAgeDropsWhatIsOlderWhenTheTopicIsTouched() throws Exception {
        TopicStore store = open(false, Map.of(PubSubSettings.RETENTION_AGE, "1h"), 1000);
        store.publish("t", text("old"));
        clock.advance(Duration.ofMinutes(40));
        store.publish("t", text("young"));
        clock.advance(Duration.ofMinutes(30));

        assertThat(store.oldest("t")).isEqualTo(1);
        assertThat(bodies(store.read("t", 1, 10))).containsExactly("young");
        clock.advance(Duration.ofMinutes(31));
        assertThat(store.topics()).containsExactly(new TopicStore.TopicInfo("t", 2, 2, 0));
        assertThat(store.read("t", 2, 10).entries()).isEmpty();
    }

    @Test
    void retentionByBytesKeepsTheTopicUnderItsSize() throws Exception {
        TopicStore store = open(false, Map.of(PubSubSettings.RETENTION_BYTES, "256KB"), 1000);
        byte[] hundredKib = new byte[100 * 1024];

        store.publishAll("big", List.of(hundredKib, hundredKib, hundredKib));

        assertThat(store.topics()).containsExactly(new TopicStore.TopicInfo("big", 1, 3, 2));
    }

    @Test
    void retentionAppliesAgainAfterARestart() throws Exception {
        TopicStore first = open(false, Map.of(PubSubSettings.RETENTION_COUNT, "2"), 1000);
        IntStream.range(0, 4).forEach(i -> first.publish("t", text("m" + i)));
        first.close();

        TopicStore second = open(true, Map.of(PubSubSettings.RETENTION_COUNT, "2"), 1000);

        assertThat(second.topics()).containsExactly(new TopicStore.TopicInfo("t", 2, 4, 2));
        assertThat(second.publish("t", text("m4"))).isEqualTo(4);
    }

    @Test
    void aCompactionKeepsEveryTopicsNextOffsetEvenWhenNoMessageIsLeft() throws Exception {
        TopicStore first = open(false, Map.of(PubSubSettings.RETENTION_COUNT, "2", PubSubSettings.RETENTION_AGE, "1h"), 10);
        for (int i = 0; i < 30; i++) {
            first.publish("busy", text("b" + i));
        }
        first.publish("quiet", text("q0"));
        clock.advance(Duration.ofHours(2));
        // Touching the topics drops what is too old; the next publish compacts.
        assertThat(first.topics()).extracting(TopicStore.TopicInfo::retained).containsOnly(0L);
        first.publish("busy", text("b30"));
        first.close();

        List<PubSubRecord> journal = records(dir.resolve(PubSubJournal.FILE_NAME));
        assertThat(journal).hasSizeLessThan(10).contains(new PubSubRecord.Start("quiet", 1), new PubSubRecord.Start("busy", 30));

        TopicStore second = open(true, Map.of(PubSubSettings.RETENTION_COUNT, "2", PubSubSettings.RETENTION_AGE, "1h"), 10);
        assertThat(second.publish("quiet", text("q1"))).isEqualTo(1);
        assertThat(second.publish("busy", text("b31"))).isEqualTo(31);
        assertThat(bodies(second.read("busy", 30, 10))).containsExactly("b30", "b31");
        assertThat(dir.resolve(PubSubJournal.FILE_NAME + ".compacting")).doesNotExist();
    }

    @Test
    void aTornLastWriteIsDroppedAndWasNeverAcknowledged() throws Exception {
        TopicStore first = open(false);
        first.publish("t", text("safe"));
        first.close();
        byte[] frame = new byte[40];
        Arrays.fill(frame, (byte) 7);
        Files.write(dir.resolve(PubSubJournal.FILE_NAME), Arrays.copyOf(frame, 11), StandardOpenOption.APPEND);

        TopicStore second = open(true);

        assertThat(bodies(second.read("t", 0, 10))).containsExactly("safe");
        assertThat(second.publish("t", text("next"))).isEqualTo(1);
    }

    @Test
    void aGapInATopicsOffsetsIsCorruption() throws Exception {
        Path journal = dir.resolve(PubSubJournal.FILE_NAME);
        try (var written = PubSubJournal.open(dir, false, (record, offset) -> { })) {
            written.append(new PubSubRecord.Published("t", 0, 1, text("a")));
            written.append(new PubSubRecord.Published("t", 2, 1, text("c")));
        }

        assertThatThrownBy(() -> open(true)).isInstanceOf(JournalCorruptException.class)
                .hasMessageContaining("topic t has a message at offset 2 where offset 1 comes next");
        assertThat(journal).exists();
    }

    @Test
    void aReadPastTheNextOffsetIsRefusedWithWhereToReadFrom() throws Exception {
        TopicStore store = open(false);
        store.publish("t", text("a"));

        assertThatThrownBy(() -> store.read("t", 5, 1)).isInstanceOfSatisfying(SpawnerException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.detail()).contains("from 5 is past the next offset of topic t, 1");
        });
        assertThat(store.read("nothing-yet", 0, 10).entries()).isEmpty();
    }

    @Test
    void aWaitingReaderWakesAtThePublish() throws Exception {
        TopicStore store = open(false);
        CompletableFuture<TopicStore.Slice> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return store.await("t", 0, 10, Duration.ofMinutes(5));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        store.publish("t", text("hello"));

        assertThat(bodies(waiting.get(2, TimeUnit.MINUTES))).containsExactly("hello");
        assertThat(store.await("t", 1, 10, Duration.ofMillis(10)).entries()).isEmpty();
    }
}
