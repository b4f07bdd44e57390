package dev.fabric.core.registry.stream;

import javax.crypto.Mac;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;

/**
 * One heartbeat on a heartbeat stream (docs/registry.md#heartbeat-streams): binary, big-endian,
 *
 * <pre>
 * version   1 byte   (1)
 * seq       8 bytes  1, 2, 3... strictly growing within a session
 * sentAt    8 bytes  the member's clock, milliseconds since the epoch
 * incarnation 8 bytes
 * idLength  1 byte, then the member's id (ASCII, at most 128 bytes)
 * mac      32 bytes  HMAC-SHA256 under the session key over every byte before it
 * </pre>
 */
public record HeartbeatFrame(long seq, long sentAtMillis, long incarnation, String id) {

    public static final byte VERSION = 1;
    public static final int MAC_BYTES = 32;
    private static final int FIXED = 1 + 8 + 8 + 8 + 1;
    private static final int MAX_ID = 128;

    public HeartbeatFrame {
        if (id.length() > MAX_ID || id.isEmpty()) {
            throw new IllegalArgumentException("an id has 1 to " + MAX_ID + " characters");
        }
    }

    /** The frame's bytes followed by their MAC under {@code mac}'s key. */
    public byte[] seal(Mac mac) {
        byte[] idBytes = id.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer body = ByteBuffer.allocate(FIXED + idBytes.length + MAC_BYTES);
        body.put(VERSION).putLong(seq).putLong(sentAtMillis).putLong(incarnation).put((byte) idBytes.length).put(idBytes);
        mac.update(body.array(), 0, body.position());
        body.put(mac.doFinal());
        return body.array();
    }

    /**
     * Checks the MAC of a received frame, then reads it.
     *
     * @return the frame, or empty when its MAC does not match (forged, altered, or another session's key)
     * @throws IllegalArgumentException when the bytes are not a frame of this version
     */
    public static Optional<HeartbeatFrame> open(byte[] bytes, Mac mac) {
        if (bytes.length < FIXED + 1 + MAC_BYTES || bytes.length > FIXED + MAX_ID + MAC_BYTES) {
            throw new IllegalArgumentException("a heartbeat frame has " + (FIXED + 1 + MAC_BYTES) + " to " + (FIXED + MAX_ID + MAC_BYTES)
                    + " bytes, not " + bytes.length);
        }
        if (bytes[0] != VERSION) {
            throw new IllegalArgumentException("heartbeat frame version " + bytes[0] + " is not " + VERSION);
        }
        int idLength = Byte.toUnsignedInt(bytes[FIXED - 1]);
        if (FIXED + idLength + MAC_BYTES != bytes.length) {
            throw new IllegalArgumentException("the frame's id length (" + idLength + ") does not match its size (" + bytes.length + ")");
        }
        int signed = bytes.length - MAC_BYTES;
        mac.update(bytes, 0, signed);
        if (!MessageDigest.isEqual(mac.doFinal(), Arrays.copyOfRange(bytes, signed, bytes.length))) {
            return Optional.empty();
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, 1, signed - 1);
        long seq = in.getLong();
        long sentAt = in.getLong();
        long incarnation = in.getLong();
        in.get();
        String id = new String(bytes, FIXED, idLength, StandardCharsets.US_ASCII);
        return Optional.of(new HeartbeatFrame(seq, sentAt, incarnation, id));
    }

    /** The registry's acknowledgement of a heartbeat: its sequence number, sent once it is committed. */
    public static byte[] ack(long seq) {
        return ByteBuffer.allocate(8).putLong(seq).array();
    }

    /** The sequence number an acknowledgement carries. */
    public static long ackedSeq(ByteBuffer ack) {
        if (ack.remaining() != 8) {
            throw new IllegalArgumentException("an acknowledgement has 8 bytes, not " + ack.remaining());
        }
        return ack.getLong();
    }
}
