package dev.fabric.spawner.role.queue;

import java.nio.charset.StandardCharsets;

/**
 * The queue journal's layout, read and written by {@link QueueJournal}: the magic {@code FQJ1},
 * then the shared frames ({@code u32 length | u32 crc32c(payload) | payload}, big-endian, see
 * {@link dev.fabric.spawner.role.journal.JournalEncoder}), where the payload is
 * {@code u8 kind | 16-byte message id | body (ENQUEUE only)}.
 */
final class JournalFormat {

    static final byte[] MAGIC = "FQJ1".getBytes(StandardCharsets.US_ASCII);

    static final byte KIND_ENQUEUE = 1;
    static final byte KIND_ACK = 2;

    /** kind and message id. */
    static final int PAYLOAD_PREFIX_BYTES = 1 + 16;

    static final int MAX_BODY_BYTES = dev.fabric.core.queue.QueueWire.MAX_BODY_BYTES;

    static final int MAX_PAYLOAD_BYTES = PAYLOAD_PREFIX_BYTES + MAX_BODY_BYTES;

    private JournalFormat() {
    }
}
