package dev.fabric.spawner.role.queue;

import java.time.Instant;
import java.util.List;

/** The JSON of the queue API (docs/queue.md). Bodies are text: binary payloads travel base64-encoded by the client. */
public final class QueueWire {

    private QueueWire() {
    }

    /** {@code POST /queue/v1/messages}. */
    public record Enqueue(String body) {}

    /** The answer to an enqueue: the message's id. */
    public record Enqueued(String id) {}

    /** The answer to {@code POST /queue/v1/leases}. */
    public record Leases(List<LeasedMessage> messages) {}

    /**
     * One leased message: ack or nack it by {@code leaseId} before {@code deadline};
     * {@code deliveries} counts the times it was leased, this one included, by this incarnation.
     */
    public record LeasedMessage(String id, String leaseId, String body, int deliveries, Instant deadline) {}

    /** {@code GET /queue/v1/stats}. */
    public record Stats(int ready, int leased, long acked) {}
}
