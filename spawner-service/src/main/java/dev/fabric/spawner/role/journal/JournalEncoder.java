package dev.fabric.spawner.role.journal;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Turns records into frames. Every journal is a 4-byte magic (its {@link JournalCodec#magic()}),
 * then frames of {@code u32 length | u32 crc32c(payload) | payload}, big-endian; what a payload
 * holds is the codec's.
 */
public final class JournalEncoder {

    /** The length and the checksum before each payload. */
    public static final int FRAME_HEADER_BYTES = 8;

    private JournalEncoder() {
    }

    /** The bytes every journal of the codec's kind starts with. */
    public static byte[] header(JournalCodec<?> codec) {
        return codec.magic().clone();
    }

    /** One whole frame, ready to be written with a single call. */
    public static <R> ByteBuffer encode(JournalCodec<R> codec, R record) {
        byte[] payload = codec.encode(record);
        ByteBuffer frame = ByteBuffer.allocate(FRAME_HEADER_BYTES + payload.length);
        put(frame, payload);
        return frame.flip();
    }

    /** Several whole frames in one buffer, for one write and one force. */
    public static <R> ByteBuffer encode(JournalCodec<R> codec, List<? extends R> records) {
        List<byte[]> payloads = records.stream().map(codec::encode).toList();
        ByteBuffer frames = ByteBuffer.allocate(payloads.stream().mapToInt(p -> FRAME_HEADER_BYTES + p.length).sum());
        payloads.forEach(payload -> put(frames, payload));
        return frames.flip();
    }

    private static void put(ByteBuffer frame, byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload);
        frame.putInt(payload.length).putInt((int) crc.getValue()).put(payload);
    }
}
