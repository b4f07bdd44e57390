package dev.fabric.core.queue;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;

/**
 * The JSON of a queue member's API ({@code docs/queue.md}): the one definition the member writes and
 * the CLI reads, so the two cannot drift apart. Bodies are text: a binary payload travels
 * base64-encoded by its producer. {@code QueueWireTest} holds these records to the field table in
 * {@code docs/queue.md}.
 */
public final class QueueWire {

    /** The most bytes of one message's body, in UTF-8, that a queue takes (256 KiB). */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    private QueueWire() {
    }

    /**
     * {@code POST /queue/v1/messages}: either one {@code body} or a list of {@code bodies} (a bulk
     * enqueue: one journal write, one force to the disk for all), never both.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Enqueue(String body, List<String> bodies) {

        /** One message. */
        public static Enqueue one(String body) {
            return new Enqueue(body, null);
        }

        /** Several messages, in this order. */
        public static Enqueue all(List<String> bodies) {
            return new Enqueue(null, List.copyOf(bodies));
        }
    }

    /** The answer to an enqueue of one body: the message's id. */
    public record Enqueued(String id) {}

    /** The answer to an enqueue of {@code bodies}: the messages' ids, in the order of the bodies. */
    public record EnqueuedAll(List<String> ids) {
        public EnqueuedAll {
            ids = ids == null ? List.of() : List.copyOf(ids);
        }
    }

    /** {@code POST /queue/v1/acks}: acks several leases at once (one journal write, one force for all). */
    public record Acks(List<String> leaseIds) {}

    /** The answer to {@code POST /queue/v1/acks}: the leases not acked, each with why; empty when every one was. */
    public record AckedAll(List<Refusal> refused) {
        public AckedAll {
            refused = refused == null ? List.of() : List.copyOf(refused);
        }
    }

    /** One lease a bulk ack refused, with the reason and detail its own ack would have answered (docs/queue.md "Errors"). */
    public record Refusal(String leaseId, String reason, String detail) {}

    /**
     * {@code POST /queue/v1/leases}: the messages leased (an absent list reads as none), and, when the
     * request carried acks ({@link Acks} as its body), the leases of those not acked, as the bulk ack
     * answers them; {@code refused} is absent (null) when it carried none, and from a queue that does
     * not take acks on a lease request (which ignores them).
     */
    public record Leases(List<LeasedMessage> messages, @JsonInclude(JsonInclude.Include.NON_NULL) List<Refusal> refused) {
        public Leases {
            messages = messages == null ? List.of() : List.copyOf(messages);
            refused = refused == null ? null : List.copyOf(refused);
        }

        /** Messages leased by a request that carried no acks. */
        public Leases(List<LeasedMessage> messages) {
            this(messages, null);
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
