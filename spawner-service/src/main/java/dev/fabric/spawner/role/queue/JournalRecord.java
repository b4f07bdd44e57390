package dev.fabric.spawner.role.queue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/** One entry of the queue journal (docs/queue.md, "Journal format"). */
sealed interface JournalRecord {

    /** The message the record is about. */
    UUID id();

    /** A message was accepted: it stays in the queue until an {@link Ack} names it. */
    record Enqueue(UUID id, byte[] body) implements JournalRecord {

        public Enqueue {
            Objects.requireNonNull(id, "id");
            body = body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        /** The body without a copy, for the encoder and the queue, which never change it. */
        byte[] bodyUnsafe() {
            return body;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Enqueue that && id.equals(that.id) && Arrays.equals(body, that.body);
        }

        @Override
        public int hashCode() {
            return 31 * id.hashCode() + Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return "Enqueue[id=" + id + ", body=" + (body.length <= 32 ? HexFormat.of().formatHex(body) : body.length + " bytes") + "]";
        }
    }

    /** A message was acknowledged: it is gone for good. */
    record Ack(UUID id) implements JournalRecord {

        public Ack {
            Objects.requireNonNull(id, "id");
        }
    }
}
