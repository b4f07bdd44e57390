package dev.fabric.spawner.role.queue;

import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.zip.CRC32C;

/** Turns journal records into frames (layout in {@link JournalFormat}). */
final class JournalEncoder {

    private JournalEncoder() {
    }

    /** The bytes every journal starts with. */
    static byte[] header() {
        return JournalFormat.MAGIC.clone();
    }

    /** One whole frame, ready to be written with a single call. */
    static ByteBuffer encode(JournalRecord record) {
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
        int payloadLength = JournalFormat.PAYLOAD_PREFIX_BYTES + body.length;
        ByteBuffer frame = ByteBuffer.allocate(JournalFormat.FRAME_HEADER_BYTES + payloadLength);
        frame.putInt(payloadLength).putInt(0);
        UUID id = record.id();
        frame.put(kind).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).put(body);
        CRC32C crc = new CRC32C();
        crc.update(frame.array(), JournalFormat.FRAME_HEADER_BYTES, payloadLength);
        frame.putInt(4, (int) crc.getValue());
        return frame.flip();
    }
}
