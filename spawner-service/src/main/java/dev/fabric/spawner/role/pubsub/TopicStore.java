package dev.fabric.spawner.role.pubsub;

import dev.fabric.spawner.role.journal.Journal;
import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The topics: their retained messages in memory, every publish in the {@link Journal} before it is
 * answered (and before any reader sees it), so what was acknowledged comes back after a restart.
 * Offsets count from 0 per topic, one per message, and are never given out twice: a topic whose
 * messages retention dropped keeps its next offset through a compaction ({@link PubSubRecord.Start}).
 * Retention (count, bytes and age per topic) drops a topic's oldest messages; age is applied when
 * the topic is touched, which is the only time anyone could see the difference.
 */
final class TopicStore implements Closeable {

    /** Compact no sooner than this many records, so a small journal is not rewritten over and over. */
    static final int DEFAULT_COMPACT_MIN_RECORDS = 4096;

    private static final Logger log = LoggerFactory.getLogger(TopicStore.class);

    /** A retained message. */
    record Entry(long offset, long atMillis, byte[] body) {

        Instant at() {
            return Instant.ofEpochMilli(atMillis);
        }
    }

    /** Messages from {@code from} on (maybe none yet), and the offset to read from next. */
    record Slice(List<Entry> entries, long next) {}

    /** A topic as {@code GET /topics} shows it. */
    record TopicInfo(String name, long oldest, long next, long retained) {}

    /** Counts for status and metrics. */
    record Stats(int topics, long retained, long retainedBytes, long published, long journalBytes) {}

    /** One topic: its retained messages are {@code entries[head..]}, at offsets {@code oldest()..next-1}. */
    private static final class Topic {
        final String name;
        final ArrayList<Entry> entries = new ArrayList<>();
        int head;
        long next;
        long bytes;

        Topic(String name, long next) {
            this.name = name;
            this.next = next;
        }

        int retained() {
            return entries.size() - head;
        }

        long oldest() {
            return retained() == 0 ? next : entries.get(head).offset();
        }

        void add(Entry entry) {
            entries.add(entry);
            next = entry.offset() + 1;
            bytes += entry.body().length;
        }

        void dropOldest() {
            Entry dropped = entries.set(head++, null);
            bytes -= dropped.body().length;
            if (head >= 1024 && head * 2 >= entries.size()) {
                entries.subList(0, head).clear();
                head = 0;
            }
        }

        Entry at(long offset) {
            return entries.get(head + (int) (offset - oldest()));
        }
    }

    private final Journal<PubSubRecord> journal;
    private final Clock clock;
    private final PubSubSettings settings;
    private final int compactMinRecords;
    private final Map<String, Topic> topics = new TreeMap<>();
    private long records;
    private long published;
    /** After a failed compaction, the record count at which to try again (not on every publish). */
    private long compactRetryAt;
    private boolean closed;

    private TopicStore(Journal<PubSubRecord> journal, Clock clock, PubSubSettings settings, int compactMinRecords, Replay replay) {
        this.journal = journal;
        this.clock = clock;
        this.settings = settings;
        this.compactMinRecords = compactMinRecords;
        this.topics.putAll(replay.topics);
        this.records = replay.records;
    }

    /**
     * Opens the store whose journal is in {@code directory}, replaying it, and applies retention.
     *
     * @param mustExist a restart: the journal must be there
     */
    static TopicStore open(Path directory, boolean mustExist, Clock clock, PubSubSettings settings, int compactMinRecords)
            throws IOException, JournalCorruptException {
        Replay replay = new Replay();
        Journal<PubSubRecord> journal = PubSubJournal.open(directory, mustExist, replay);
        TopicStore store = new TopicStore(journal, clock, settings, compactMinRecords, replay);
        synchronized (store) {
            store.topics.values().forEach(store::retain);
            store.compactIfDominated();
            log.info("pubsub journal {}: {} topics, {} messages retained ({} records, {} bytes)", journal.file(), store.topics.size(),
                    store.retainedCount(), store.records, journal.size());
        }
        return store;
    }

    /** Rebuilds the topics from the journal and checks that each topic's offsets follow on without gaps. */
    private static final class Replay implements JournalDecoder.Sink<PubSubRecord> {
        final Map<String, Topic> topics = new TreeMap<>();
        long records;

        @Override
        public void accept(PubSubRecord record, long offset) throws JournalCorruptException {
            switch (record) {
                case PubSubRecord.Published message -> {
                    Topic topic = topics.computeIfAbsent(message.topic(), name -> new Topic(name, 0));
                    if (message.offset() != topic.next) {
                        throw new JournalCorruptException(offset, "topic " + message.topic() + " has a message at offset " + message.offset()
                                + " where offset " + topic.next + " comes next");
                    }
                    topic.add(new Entry(message.offset(), message.atMillis(), message.bodyUnsafe()));
                }
                case PubSubRecord.Start start -> {
                    Topic topic = topics.get(start.topic());
                    if (topic != null && start.offset() < topic.next) {
                        throw new JournalCorruptException(offset, "topic " + start.topic() + " starts again at offset " + start.offset()
                                + ", before its next offset " + topic.next);
                    }
                    // Whatever came before a start is gone: a compaction wrote it first.
                    topics.put(start.topic(), new Topic(start.topic(), start.offset()));
                }
            }
            records++;
        }
    }

    /** Stores one message durably; returns its offset. */
    synchronized long publish(String topicName, byte[] body) {
        return publishAll(topicName, List.of(body)).getFirst();
    }

    /** Stores messages durably, in order, with one journal write; returns their offsets. */
    synchronized List<Long> publishAll(String topicName, List<byte[]> bodies) {
        ensureOpen();
        Topic topic = topics.get(topicName);
        long first = topic == null ? 0 : topic.next;
        long now = clock.millis();
        List<PubSubRecord.Published> written = new ArrayList<>(bodies.size());
        for (int i = 0; i < bodies.size(); i++) {
            written.add(new PubSubRecord.Published(topicName, first + i, now, bodies.get(i)));
        }
        try {
            journal.appendAll(written);
        } catch (IOException e) {
            log.error("pubsub journal {}: could not write {} messages to topic {}", journal.file(), bodies.size(), topicName, e);
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "journal-unavailable", "the pubsub could not write its journal ("
                    + e.getMessage() + "), so nothing was published; retry, and if this persists look at the member's disk and log");
        }
        if (topic == null) {
            topic = new Topic(topicName, 0);
            topics.put(topicName, topic);
        }
        List<Long> offsets = new ArrayList<>(written.size());
        for (PubSubRecord.Published message : written) {
            topic.add(new Entry(message.offset(), message.atMillis(), message.bodyUnsafe()));
            offsets.add(message.offset());
        }
        records += written.size();
        published += written.size();
        retain(topic);
        compactIfDominated();
        notifyAll();
        return offsets;
    }

    /**
     * Up to {@code max} messages of the topic from offset {@code from} on; none when {@code from} is
     * its next offset (or the topic has none yet).
     *
     * @throws OffsetGoneException when retention dropped the message at {@code from}
     * @throws SpawnerException {@code 400} when {@code from} is past the topic's next offset
     */
    synchronized Slice read(String topicName, long from, int max) {
        ensureOpen();
        Topic topic = topics.get(topicName);
        long next = topic == null ? 0 : topic.next;
        if (from > next) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "from " + from + " is past the next offset of topic "
                    + topicName + ", " + next + ": no message has been published there yet; read from " + next
                    + " or less (omit from to follow new messages)");
        }
        if (topic == null) {
            return new Slice(List.of(), from);
        }
        retain(topic);
        if (from < topic.oldest()) {
            throw new OffsetGoneException(topicName, from, topic.oldest());
        }
        int count = (int) Math.min(max, topic.next - from);
        List<Entry> entries = new ArrayList<>(count);
        for (long offset = from; offset < from + count; offset++) {
            entries.add(topic.at(offset));
        }
        return new Slice(entries, from + count);
    }

    /**
     * {@link #read}, waiting up to {@code wait} for a message when there is none yet.
     *
     * @throws InterruptedException when the waiting thread is interrupted (the member stops)
     */
    synchronized Slice await(String topicName, long from, int max, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Slice slice = read(topicName, from, max);
            long left = deadline - System.nanoTime();
            if (!slice.entries().isEmpty() || left <= 0) {
                return slice;
            }
            // Woken by every publish (notifyAll), and at the deadline.
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** The offset the topic's next message will get (0 for a topic that has none yet). */
    synchronized long next(String topicName) {
        ensureOpen();
        Topic topic = topics.get(topicName);
        return topic == null ? 0 : topic.next;
    }

    /** The oldest offset the topic retains (its next offset when it retains none; 0 for a topic that has none yet). */
    synchronized long oldest(String topicName) {
        ensureOpen();
        Topic topic = topics.get(topicName);
        if (topic == null) {
            return 0;
        }
        retain(topic);
        return topic.oldest();
    }

    /** Every topic, by name. */
    synchronized List<TopicInfo> topics() {
        ensureOpen();
        List<TopicInfo> infos = new ArrayList<>(topics.size());
        for (Topic topic : topics.values()) {
            retain(topic);
            infos.add(new TopicInfo(topic.name, topic.oldest(), topic.next, topic.retained()));
        }
        return infos;
    }

    synchronized Stats stats() {
        ensureOpen();
        long bytes = topics.values().stream().mapToLong(t -> t.bytes).sum();
        return new Stats(topics.size(), retainedCount(), bytes, published, journal.size());
    }

    Path journalFile() {
        return journal.file();
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        notifyAll();
        journal.close();
    }

    private long retainedCount() {
        return topics.values().stream().mapToLong(Topic::retained).sum();
    }

    /** A call that raced with the role's stop gets the same answer as one after it. */
    private void ensureOpen() {
        if (closed) {
            throw PubSubRole.notStarted();
        }
    }

    /** Drops the topic's oldest messages while it holds more than retention allows. */
    private void retain(Topic topic) {
        long oldestKept = clock.millis() - settings.retentionAge().toMillis();
        while (topic.retained() > 0 && (topic.retained() > settings.retentionCount() || topic.bytes > settings.retentionBytes()
                || topic.entries.get(topic.head).atMillis() < oldestKept)) {
            topic.dropOldest();
        }
    }

    /** Rewrites the journal when messages retention dropped make up most of it. */
    private void compactIfDominated() {
        long live = retainedCount() + topics.size();
        if (records < compactMinRecords || records < compactRetryAt || (records - live) * 2 <= records) {
            return;
        }
        List<PubSubRecord> kept = new ArrayList<>((int) live);
        for (Topic topic : topics.values()) {
            kept.add(new PubSubRecord.Start(topic.name, topic.oldest()));
            for (int i = topic.head; i < topic.entries.size(); i++) {
                Entry entry = topic.entries.get(i);
                kept.add(new PubSubRecord.Published(topic.name, entry.offset(), entry.atMillis(), entry.body()));
            }
        }
        long before = journal.size();
        try {
            journal.rewrite(kept);
        } catch (IOException e) {
            // The journal still holds everything (the move is atomic); try again once it has grown some more.
            compactRetryAt = records + compactMinRecords;
            log.warn("pubsub journal {}: compaction failed, going on with the old journal: {}", journal.file(), e.toString());
            return;
        }
        log.info("pubsub journal {}: compacted {} records ({} bytes) to {} ({} bytes)", journal.file(), records, before, kept.size(),
                journal.size());
        records = kept.size();
    }
}
