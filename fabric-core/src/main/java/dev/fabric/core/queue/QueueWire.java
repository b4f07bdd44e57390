package dev.fabric.core.queue;

import java.time.Instant;
import java.util.List;

/**
 * The JSON of a queue member's API ({@code docs/queue.md}): the one definition the member writes and
 * the CLI reads, so the two cannot drift apart. Bodies are text: a binary payload travels
 * base64-encoded by its producer. {@code QueueWireTest} holds these records to the field table in
 * {@code docs/queue.md}.
 */
public final class QueueWire {

    private QueueWire() {
    }

    /** {@code POST /queue/v1/messages}. */
    public record Enqueue(String body) {}

    /** The answer to an enqueue: the message's id. */
    public record Enqueued(String id) {}

    /** The answer to {@code POST /queue/v1/leases}; an absent list reads as none. */
    public record Leases(List<LeasedMessage> messages) {
        public Leases {
            messages = messages == null ? List.of() : List.copyOf(messages);
        }
    }

    /**
     * One leased message: ack or nack it by {@code leaseId} before {@code deadline};
     * {@code deliveries} counts the times it was leased, this one included, by this incarnation.
     */
    public record LeasedMessage(String id, String leaseId, String body, int deliveries, Instant deadline) {}

    /** The answer to {@code POST /queue/v1/leases/{leaseId}/extend}: the lease's new deadline. */
    public record Extended(Instant deadline) {}

    /** {@code GET /queue/v1/stats}: counts of messages, 64-bit on the wire whatever the member holds them in. */
    public record Stats(long ready, long leased, long acked) {}
}
