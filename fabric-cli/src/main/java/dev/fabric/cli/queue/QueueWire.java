package dev.fabric.cli.queue;

import java.time.Instant;
import java.util.List;

/** The JSON of a queue member's API (docs/queue.md), as the CLI reads it. */
final class QueueWire {

    private QueueWire() {}

    /** The answer to an enqueue: the message's id. */
    record Enqueued(String id) {}

    /** The answer to {@code POST /queue/v1/leases}. */
    record Leases(List<LeasedMessage> messages) {
        Leases {
            messages = messages == null ? List.of() : messages;
        }
    }

    /** One leased message: ack or nack it by {@code leaseId} before {@code deadline}. */
    record LeasedMessage(String id, String leaseId, String body, int deliveries, Instant deadline) {}

    /** {@code GET /queue/v1/stats}. */
    record Stats(long ready, long leased, long acked) {}
}
