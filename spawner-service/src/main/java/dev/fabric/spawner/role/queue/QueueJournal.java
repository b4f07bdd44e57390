package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.journal.Journal;
import dev.fabric.spawner.role.journal.JournalCodec;
import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;
import dev.fabric.spawner.role.journal.JournalEncoder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;

/**
 * The queue's journal, {@code queue.journal} in the member's data directory: the shared
 * {@link Journal} with the queue's records (payload layout in {@link JournalFormat}).
 */
final class QueueJournal implements JournalCodec<JournalRecord> {

    static final String FILE_NAME = "queue.journal";

    /** Where a compaction writes before the atomic move. */
    static final String COMPACTING_FILE_NAME = FILE_NAME + Journal.COMPACTING_SUFFIX;

    static final QueueJournal CODEC = new QueueJournal();

    private QueueJournal() {
    }

    /** Opens the queue journal in {@code directory} (see {@link Journal#open}). */
    static Journal<JournalRecord> open(Path directory, boolean mustExist, JournalDecoder.Sink<JournalRecord> replay)
            throws IOException, JournalCorruptException {
        return Journal.open(CODEC, directory, FILE_NAME, mustExist, replay);
    }

    /** Decodes a whole queue journal (see {@link JournalDecoder#decode}). */
    static JournalDecoder.Decoded decode(InputStream in, long size, JournalDecoder.Sink<JournalRecord> sink)
            throws IOException, JournalCorruptException {
        return JournalDecoder.decode(CODEC, in, size, sink);
    }

    static byte[] header() {
        return JournalEncoder.header(CODEC);
    }

    /** One record's whole frame. */
    static ByteBuffer frame(JournalRecord record) {
        return JournalEncoder.encode(CODEC, record);
    }

    @Override
    public String owner() {
        return "queue";
    }

    @Override
    public byte[] magic() {
        return JournalFormat.MAGIC.clone();
    }

    @Override
    public int minPayloadBytes() {
        return JournalFormat.PAYLOAD_PREFIX_BYTES;
    }

    @Override
    public int maxPayloadBytes() {
        return JournalFormat.MAX_PAYLOAD_BYTES;
    }

    @Override
    public byte[] encode(JournalRecord record) {
        byte[] body = switch (record) {
            case JournalRecord.Enqueue enqueue -> enqueue.bodyUnsafe();
            case JournalRecord.Ack ack -> new byte[0];
        };
        if (body.length > JournalFormat.MAX_BODY_BYTES) {
            throw new IllegalArgumentException("a body of " + body.length + " bytes is over the journal's limit of "
                    + JournalFormat.MAX_BODY_BYTES);
        }
        byte kind = switch (record) {
            case JournalRecord.Enqueue ignored -> JournalFormat.KIND_ENQUEUE;
            case JournalRecord.Ack ignored -> JournalFormat.KIND_ACK;
        };
        UUID id = record.id();
        return ByteBuffer.allocate(JournalFormat.PAYLOAD_PREFIX_BYTES + body.length)
                .put(kind).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).put(body).array();
    }

    @Override
    public JournalRecord decode(byte[] payload, long offset) throws JournalCorruptException {
        ByteBuffer buffer = ByteBuffer.wrap(payload);
        byte kind = buffer.get();
        UUID id = new UUID(buffer.getLong(), buffer.getLong());
        return switch (kind) {
            case JournalFormat.KIND_ENQUEUE -> new JournalRecord.Enqueue(id, Arrays.copyOfRange(payload,
                    JournalFormat.PAYLOAD_PREFIX_BYTES, payload.length));
            case JournalFormat.KIND_ACK -> {
                if (payload.length != JournalFormat.PAYLOAD_PREFIX_BYTES) {
                    throw new JournalCorruptException(offset, "an ACK frame of " + payload.length + " bytes, not "
                            + JournalFormat.PAYLOAD_PREFIX_BYTES);
                }
                yield new JournalRecord.Ack(id);
            }
            // A valid CRC around an unknown kind is a journal from another version, not crash damage.
            default -> throw new JournalCorruptException(offset, "a record of unknown kind " + kind);
        };
    }
}
