package dev.fabric.core.pubsub;

import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The JSON of a pubsub member's API ({@code docs/roles.md}, "pubsub"): the one definition the member
 * writes and its clients ({@code FabricClient}, the CLI) read. Bodies are text; a binary payload
 * travels base64-encoded by its publisher.
 */
public final class PubSubWire {

    /** The endpoint name a pubsub member publishes in the registry. */
    public static final String ENDPOINT = "pubsub";

    /** The base path of the API on the member. */
    public static final String BASE_PATH = "/pubsub/v1";

    /** What a topic name is: lower-case letters and digits, then also {@code .}, {@code _} and {@code -}; 1 to 128 characters. */
    public static final Pattern TOPIC = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");

    /** The SSE event name of a message. */
    public static final String MESSAGE_EVENT = "message";

    /**
     * The SSE event name that ends a stream whose reader fell behind retention while it read:
     * its data is a {@link Gone}. (Behind already when it connects, the answer is {@code 410 gone}.)
     */
    public static final String GONE_EVENT = "gone";

    /** The problem reason of a {@code from} older than the oldest retained message; the problem carries {@code oldest}. */
    public static final String GONE_REASON = "gone";

    private PubSubWire() {
    }

    /** Whether {@code name} is a valid topic name. */
    public static boolean isTopic(String name) {
        return name != null && TOPIC.matcher(name).matches();
    }

    /**
     * {@code POST /pubsub/v1/topics/{topic}/messages}: either one {@code body} or a list of
     * {@code bodies} (a bulk publish, one journal write), never both.
     */
    public record Publish(String body, List<String> bodies) {

        /** One message. */
        public static Publish one(String body) {
            return new Publish(body, null);
        }

        /** Several messages, in this order. */
        public static Publish all(List<String> bodies) {
            return new Publish(null, List.copyOf(bodies));
        }
    }

    /** The answer to a publish of one body: its offset in the topic. */
    public record Published(long offset) {}

    /** The answer to a bulk publish: the offsets of the bodies, in their order (consecutive). */
    public record PublishedAll(List<Long> offsets) {
        public PublishedAll {
            offsets = offsets == null ? List.of() : List.copyOf(offsets);
        }
    }

    /** One message of a topic: its offset, its body and when the member journaled it. */
    public record Message(long offset, String body, Instant at) {}

    /**
     * {@code GET /pubsub/v1/topics/{topic}/messages?from=N&max=M} as JSON: the messages from
     * {@code from} on, and the offset to ask from next.
     */
    public record Messages(List<Message> messages, long next) {
        public Messages {
            messages = messages == null ? List.of() : List.copyOf(messages);
        }
    }

    /**
     * A topic: the oldest offset it retains, the offset its next message will get, and how many
     * messages it retains (all of {@code oldest..next-1}).
     */
    public record Topic(String name, long oldest, long next, long retained) {}

    /** {@code GET /pubsub/v1/topics}. */
    public record Topics(List<Topic> topics) {
        public Topics {
            topics = topics == null ? List.of() : List.copyOf(topics);
        }
    }

    /** The data of a {@link #GONE_EVENT}: the oldest offset still retained, and why the stream ends. */
    public record Gone(long oldest, String detail) {}
}
