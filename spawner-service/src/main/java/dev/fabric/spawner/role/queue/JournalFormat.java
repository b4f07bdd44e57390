package dev.fabric.spawner.role.queue;

import java.nio.charset.StandardCharsets;

/**
 * The queue journal's layout, shared by {@link JournalEncoder} and {@link JournalDecoder}: a 4-byte
 * magic, then frames of {@code u32 length | u32 crc32c(payload) | payload}, big-endian, where the
 * payload is {@code u8 kind | 16-byte message id | body (ENQUEUE only)}.
 */
final class JournalFormat {

    static final byte[] MAGIC = "FQJ1".getBytes(StandardCharsets.US_ASCII);

    static final int FRAME_HEADER_BYTES = 8;

    static final byte KIND_ENQUEUE = 1;
    static final byte KIND_ACK = 2;

    /** kind and message id. */
    static final int PAYLOAD_PREFIX_BYTES = 1 + 16;

    static final int MAX_BODY_BYTES = 256 * 1024;

    static final int MAX_PAYLOAD_BYTES = PAYLOAD_PREFIX_BYTES + MAX_BODY_BYTES;

    private JournalFormat() {
    }
}
