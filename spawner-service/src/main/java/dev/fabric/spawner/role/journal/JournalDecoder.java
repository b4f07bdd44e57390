package dev.fabric.spawner.role.journal;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Reads a journal (layout in {@link JournalEncoder}) and tells a torn last record from a corrupt
 * one. A crash can only damage the end of the file, and only a record that was never forced, so
 * never acknowledged: a last frame that runs past the end of the file, fails its CRC, or is a run
 * of zeros (a file length the disk kept without its data) is torn and dropped. Damage with a whole
 * frame after it cannot come from a crash and is corruption.
 */
public final class JournalDecoder {

    /** Receives each record in file order, with the offset of its frame. */
    @FunctionalInterface
    public interface Sink<R> {
        void accept(R record, long offset) throws JournalCorruptException;
    }

    /**
     * What was read: the records fill {@code validLength} bytes; when {@code tornBytes} is not zero,
     * that many bytes after them are a torn last record ({@code tornReason} says how it was torn).
     */
    public record Decoded(long validLength, long tornBytes, String tornReason) {

        public boolean torn() {
            return tornBytes > 0;
        }
    }

    private JournalDecoder() {
    }

    /**
     * Decodes a whole journal of {@code size} bytes from {@code in} (buffered by the caller).
     *
     * @throws JournalCorruptException when the file is not a journal of the codec's kind or holds a damaged record before its end
     */
    public static <R> Decoded decode(JournalCodec<R> codec, InputStream in, long size, Sink<? super R> sink)
            throws IOException, JournalCorruptException {
        DataInputStream data = new DataInputStream(in);
        byte[] expectedMagic = codec.magic();
        int magicLength = expectedMagic.length;
        if (size < magicLength) {
            throw new JournalCorruptException(0, "the file is " + size + " bytes long, too short for the journal header");
        }
        byte[] magic = new byte[magicLength];
        data.readFully(magic);
        if (!Arrays.equals(magic, expectedMagic)) {
            throw new JournalCorruptException(0, "the file starts with " + HexFormat.of().formatHex(magic)
                    + ", not the " + codec.owner() + " journal header " + HexFormat.of().formatHex(expectedMagic));
        }
        long offset = magicLength;
        while (offset < size) {
            long remaining = size - offset;
            if (remaining < JournalEncoder.FRAME_HEADER_BYTES) {
                return torn(offset, remaining, "a frame header cut short");
            }
            long length = Integer.toUnsignedLong(data.readInt());
            int expectedCrc = data.readInt();
            if (length > remaining - JournalEncoder.FRAME_HEADER_BYTES) {
                return torn(offset, remaining, "a frame of " + length + " bytes with only " + (remaining - JournalEncoder.FRAME_HEADER_BYTES)
                        + " written");
            }
            if (length == 0) {
                if (expectedCrc == 0 && restIsZeros(data, remaining - JournalEncoder.FRAME_HEADER_BYTES)) {
                    return torn(offset, remaining, "zeros where a frame should be");
                }
                throw new JournalCorruptException(offset, "a frame of length 0");
            }
            if (length < codec.minPayloadBytes() || length > codec.maxPayloadBytes()) {
                throw new JournalCorruptException(offset, "a frame of length " + length + ", outside "
                        + codec.minPayloadBytes() + ".." + codec.maxPayloadBytes());
            }
            byte[] payload = new byte[(int) length];
            data.readFully(payload);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            long end = offset + JournalEncoder.FRAME_HEADER_BYTES + length;
            if ((int) crc.getValue() != expectedCrc) {
                if (end == size) {
                    return torn(offset, remaining, "the last frame fails its CRC32C check");
                }
                throw new JournalCorruptException(offset, "a frame fails its CRC32C check and " + (size - end)
                        + " bytes follow it");
            }
            sink.accept(codec.decode(payload, offset), offset);
            offset = end;
        }
        return new Decoded(offset, 0, null);
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
