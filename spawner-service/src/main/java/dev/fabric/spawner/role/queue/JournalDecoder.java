package dev.fabric.spawner.role.queue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Reads a journal (layout in {@link JournalFormat}) and tells a torn last record from a corrupt
 * one. A crash can only damage the end of the file, and only a record that was never forced, so
 * never acknowledged: a last frame that runs past the end of the file, fails its CRC, or is a run
 * of zeros (a file length the disk kept without its data) is torn and dropped. Damage with a whole
 * frame after it cannot come from a crash and is corruption.
 */
final class JournalDecoder {

    /** Receives each record in file order, with the offset of its frame. */
    @FunctionalInterface
    interface Sink {
        void accept(JournalRecord record, long offset) throws JournalCorruptException;
    }

    /**
     * What was read: the records fill {@code validLength} bytes; when {@code tornBytes} is not zero,
     * that many bytes after them are a torn last record ({@code tornReason} says how it was torn).
     */
    record Decoded(long validLength, long tornBytes, String tornReason) {

        boolean torn() {
            return tornBytes > 0;
        }
    }

    private JournalDecoder() {
    }

    /**
     * Decodes a whole journal of {@code size} bytes from {@code in} (buffered by the caller).
     *
     * @throws JournalCorruptException when the file is not a queue journal or holds a damaged record before its end
     */
    static Decoded decode(InputStream in, long size, Sink sink) throws IOException, JournalCorruptException {
        DataInputStream data = new DataInputStream(in);
        int magicLength = JournalFormat.MAGIC.length;
        if (size < magicLength) {
            throw new JournalCorruptException(0, "the file is " + size + " bytes long, too short for the journal header");
        }
        byte[] magic = new byte[magicLength];
        data.readFully(magic);
        if (!Arrays.equals(magic, JournalFormat.MAGIC)) {
            throw new JournalCorruptException(0, "the file starts with " + HexFormat.of().formatHex(magic)
                    + ", not the queue journal header " + HexFormat.of().formatHex(JournalFormat.MAGIC));
        }
        long offset = magicLength;
        while (offset < size) {
            long remaining = size - offset;
            if (remaining < JournalFormat.FRAME_HEADER_BYTES) {
                return torn(offset, remaining, "a frame header cut short");
            }
            long length = Integer.toUnsignedLong(data.readInt());
            int expectedCrc = data.readInt();
            if (length > remaining - JournalFormat.FRAME_HEADER_BYTES) {
                return torn(offset, remaining, "a frame of " + length + " bytes with only " + (remaining - JournalFormat.FRAME_HEADER_BYTES)
                        + " written");
            }
            if (length == 0) {
                if (expectedCrc == 0 && restIsZeros(data, remaining - JournalFormat.FRAME_HEADER_BYTES)) {
                    return torn(offset, remaining, "zeros where a frame should be");
                }
                throw new JournalCorruptException(offset, "a frame of length 0");
            }
            if (length < JournalFormat.PAYLOAD_PREFIX_BYTES || length > JournalFormat.MAX_PAYLOAD_BYTES) {
                throw new JournalCorruptException(offset, "a frame of length " + length + ", outside "
                        + JournalFormat.PAYLOAD_PREFIX_BYTES + ".." + JournalFormat.MAX_PAYLOAD_BYTES);
            }
            byte[] payload = new byte[(int) length];
            data.readFully(payload);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            long end = offset + JournalFormat.FRAME_HEADER_BYTES + length;
            if ((int) crc.getValue() != expectedCrc) {
                if (end == size) {
                    return torn(offset, remaining, "the last frame fails its CRC32C check");
                }
                throw new JournalCorruptException(offset, "a frame fails its CRC32C check and " + (size - end)
                        + " bytes follow it");
            }
            sink.accept(record(payload, offset), offset);
            offset = end;
        }
        return new Decoded(offset, 0, null);
    }

    private static JournalRecord record(byte[] payload, long offset) throws JournalCorruptException {
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

    private static boolean restIsZeros(DataInputStream data, long bytes) throws IOException {
        byte[] chunk = new byte[8192];
        long left = bytes;
        while (left > 0) {
            int n = (int) Math.min(chunk.length, left);
            data.readFully(chunk, 0, n);
            for (int i = 0; i < n; i++) {
                if (chunk[i] != 0) {
                    return false;
                }
            }
            left -= n;
        }
        return true;
    }

    private static Decoded torn(long offset, long bytes, String reason) {
        return new Decoded(offset, bytes, reason);
    }
}
