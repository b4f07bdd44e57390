package dev.fabric.spawner.role.pubsub;

import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.spawner.role.journal.Journal;
import dev.fabric.spawner.role.journal.JournalCodec;
import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The pubsub journal, {@code pubsub.journal} in the member's data directory: the shared
 * {@link Journal} (frames of {@code u32 length | u32 crc32c | payload}) after the magic {@code FPJ1},
 * where a payload is {@code u8 kind | u8 topic length | topic (ASCII) | u64 offset}, and for
 * PUBLISHED then {@code u64 epoch millis | body}.
 */
final class PubSubJournal implements JournalCodec<PubSubRecord> {

    static final String FILE_NAME = "pubsub.journal";

    static final byte[] MAGIC = "FPJ1".getBytes(StandardCharsets.US_ASCII);

    static final byte KIND_PUBLISHED = 1;
    static final byte KIND_START = 2;

    /** The largest body a message may have (as the queue's). */
    static final int MAX_BODY_BYTES = 256 * 1024;

    static final int MAX_TOPIC_BYTES = 128;

    private static final int MIN_PAYLOAD = 1 + 1 + 1 + 8;
    private static final int MAX_PAYLOAD = 1 + 1 + MAX_TOPIC_BYTES + 8 + 8 + MAX_BODY_BYTES;

    static final PubSubJournal CODEC = new PubSubJournal();

    private PubSubJournal() {
    }

    static Journal<PubSubRecord> open(Path directory, boolean mustExist, JournalDecoder.Sink<PubSubRecord> replay)
            throws IOException, JournalCorruptException {
        return Journal.open(CODEC, directory, FILE_NAME, mustExist, replay);
    }

    @Override
    public String owner() {
        return "pubsub";
    }

    @Override
    public byte[] magic() {
        return MAGIC.clone();
    }

    @Override
    public int minPayloadBytes() {
        return MIN_PAYLOAD;
    }

    @Override
    public int maxPayloadBytes() {
        return MAX_PAYLOAD;
    }

    @Override
    public byte[] encode(PubSubRecord record) {
        if (!PubSubWire.isTopic(record.topic())) {
            throw new IllegalArgumentException("'" + record.topic() + "' is not a topic name");
        }
        byte[] topic = record.topic().getBytes(StandardCharsets.US_ASCII);
        return switch (record) {
            case PubSubRecord.Published published -> {
                byte[] body = published.bodyUnsafe();
                if (body.length > MAX_BODY_BYTES) {
                    throw new IllegalArgumentException("a body of " + body.length + " bytes is over the journal's limit of " + MAX_BODY_BYTES);
                }
                yield ByteBuffer.allocate(1 + 1 + topic.length + 8 + 8 + body.length).put(KIND_PUBLISHED).put((byte) topic.length)
                        .put(topic).putLong(published.offset()).putLong(published.atMillis()).put(body).array();
            }
            case PubSubRecord.Start start -> ByteBuffer.allocate(1 + 1 + topic.length + 8).put(KIND_START).put((byte) topic.length)
                    .put(topic).putLong(start.offset()).array();
        };
    }

    @Override
    public PubSubRecord decode(byte[] payload, long offset) throws JournalCorruptException {
        ByteBuffer buffer = ByteBuffer.wrap(payload);
        byte kind = buffer.get();
        int topicLength = Byte.toUnsignedInt(buffer.get());
        if (topicLength < 1 || topicLength > MAX_TOPIC_BYTES || buffer.remaining() < topicLength + 8) {
            throw new JournalCorruptException(offset, "a topic name of " + topicLength + " bytes in a frame of " + payload.length);
        }
        byte[] topicBytes = new byte[topicLength];
        buffer.get(topicBytes);
        String topic = new String(topicBytes, StandardCharsets.US_ASCII);
        if (!PubSubWire.isTopic(topic)) {
            throw new JournalCorruptException(offset, "'" + topic + "' is not a topic name");
        }
        long messageOffset = buffer.getLong();
        if (messageOffset < 0) {
            throw new JournalCorruptException(offset, "a negative offset " + messageOffset + " in topic " + topic);
        }
        return switch (kind) {
            case KIND_PUBLISHED -> {
                if (buffer.remaining() < 8) {
                    throw new JournalCorruptException(offset, "a PUBLISHED frame of " + payload.length + " bytes, too short for its time");
                }
                long at = buffer.getLong();
                yield new PubSubRecord.Published(topic, messageOffset, at, Arrays.copyOfRange(payload, buffer.position(), payload.length));
            }
            case KIND_START -> {
                if (buffer.hasRemaining()) {
                    throw new JournalCorruptException(offset, "a START frame with " + buffer.remaining() + " bytes too many");
                }
                yield new PubSubRecord.Start(topic, messageOffset);
            }
            // A valid CRC around an unknown kind is a journal from another version, not crash damage.
            default -> throw new JournalCorruptException(offset, "a record of unknown kind " + kind);
        };
    }
}
