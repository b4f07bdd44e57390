package dev.fabric.core.client;

/**
 * A pubsub member no longer retains the offset a reader asked for ({@code 410 gone}): retention
 * dropped the messages before {@link #oldest()}. The reader decides whether to carry on from there.
 */
public final class OffsetGoneException extends FabricClientException {

    private final String topic;
    private final long from;
    private final long oldest;

    OffsetGoneException(String memberId, String topic, long from, long oldest, String message, Throwable cause) {
        super(memberId, message, cause);
        this.topic = topic;
        this.from = from;
        this.oldest = oldest;
    }

    /** The topic that was read. */
    public String topic() {
        return topic;
    }

    /** The offset the reader asked for. */
    public long from() {
        return from;
    }

    /** The oldest offset the topic still retains: where the reader can carry on from. */
    public long oldest() {
        return oldest;
    }
}
