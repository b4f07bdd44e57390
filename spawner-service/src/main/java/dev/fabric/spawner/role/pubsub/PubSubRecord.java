package dev.fabric.spawner.role.pubsub;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/** One entry of the pubsub journal (docs/roles.md, "pubsub", Journal). */
sealed interface PubSubRecord {

    /** The topic the record is about. */
    String topic();

    /**
     * A message was published to {@code topic} at {@code offset} (the topic's next offset when it
     * was written), at {@code atMillis} (epoch milliseconds).
     */
    record Published(String topic, long offset, long atMillis, byte[] body) implements PubSubRecord {

        public Published {
            Objects.requireNonNull(topic, "topic");
            body = body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        /** The body without a copy, for the codec and the store, which never change it. */
        byte[] bodyUnsafe() {
            return body;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Published that && topic.equals(that.topic) && offset == that.offset && atMillis == that.atMillis
                    && Arrays.equals(body, that.body);
        }

        @Override
        public int hashCode() {
            return Objects.hash(topic, offset, atMillis) * 31 + Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return "Published[topic=" + topic + ", offset=" + offset + ", at=" + atMillis + ", body="
                    + (body.length <= 32 ? HexFormat.of().formatHex(body) : body.length + " bytes") + "]";
        }
    }

    /**
     * Written by a compaction, first for each topic: the topic's messages that follow start at
     * {@code offset}, and the ones before it are gone. A topic whose messages retention removed
     * keeps its place this way, so its offsets are never given out again.
     */
    record Start(String topic, long offset) implements PubSubRecord {

        public Start {
            Objects.requireNonNull(topic, "topic");
        }
    }
}
