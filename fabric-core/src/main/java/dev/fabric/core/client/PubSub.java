package dev.fabric.core.client;

import dev.fabric.core.problem.Problem;
import dev.fabric.core.pubsub.PubSubWire;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.RestClientResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A pubsub member's topics (docs/roles.md, "pubsub"), reached by its id through the registry with
 * the fail-over of {@link FabricClient#call} (a member reached through a bridge included). Get one
 * from {@link FabricClient#pubsub(String)}.
 *
 * <p>A publish is durable on the member when it returns. A publish that failed as unreachable is
 * run once more after the fail-over, so a message may be published twice when the first answer
 * was lost: make bodies idempotent (an id inside) where that matters. Refusals are
 * {@link MemberRefusedException} with the member's reason ({@code invalid-request}...), a reader
 * behind retention gets {@link OffsetGoneException}.
 *
 * <pre>{@code
 * PubSub events = fabric.pubsub("pubsub-1a2b3c4d");
 * long offset = events.publish("tasks.pilot-1", "{\"task\": \"t-1\", \"state\": \"DONE\"}");
 * try (Subscription s = events.subscribe("tasks.pilot-1", 0L, message -> handle(message.body()))) {
 *     ...
 * }
 * }</pre>
 */
public final class PubSub {

    /** The most bodies one publish request carries: the member takes 1 to 1,000. */
    static final int BULK = 1000;

    private final FabricClient fabric;
    private final String memberId;
    /** Publishes and fetches go to the member found once, looked up again after a failure: no registry look-up per call. */
    private final BoundMember bound;

    PubSub(FabricClient fabric, String memberId) {
        this.fabric = fabric;
        this.memberId = memberId;
        this.bound = fabric.bind(memberId, PubSubWire.ENDPOINT);
    }

    /** The pubsub member's id. */
    public String memberId() {
        return memberId;
    }

    /** The most bytes of one request body to the member: its client's {@link FabricClient#maxBodyBytes()}. */
    public long maxBodyBytes() {
        return fabric.maxBodyBytes();
    }

    /** Publishes one message; returns its offset in the topic once the member has journaled it. */
    public long publish(String topic, String body) {
        Objects.requireNonNull(body, "body");
        PubSubWire.Published published = call("publish to topic " + topic, (client, url) -> client.post()
                .uri("/topics/{topic}/messages", topic).contentType(MediaType.APPLICATION_JSON)
                .body(PubSubWire.Publish.one(body)).retrieve().body(PubSubWire.Published.class));
        return Objects.requireNonNull(published, "the member answered a publish without its offset").offset();
    }

    /**
     * Publishes messages in this order; returns their offsets. They go in requests of up to
     * {@link #BULK} bodies and {@link FabricClient#maxBodyBytes()} bytes (512 KiB unless set), each
     * one journal write on the member; a request refused as too large all the same (the fabric's
     * limit is lower than the client's) is sent again in halves. When a later request fails, the
     * earlier ones' messages are published: the exception says how many.
     *
     * @throws RequestBatches.ItemTooLargeException when one body is too large for a request by itself;
     *         nothing is published then
     */
    public List<Long> publishAll(String topic, List<String> bodies) {
        Objects.requireNonNull(bodies, "bodies");
        for (int i = 0; i < bodies.size(); i++) {
            Objects.requireNonNull(bodies.get(i), "bodies[" + i + "]");
        }
        List<List<String>> requests = RequestBatches.split(bodies, body -> fabric.json().writeValueAsBytes(body).length,
                fabric.json().writeValueAsBytes(PubSubWire.Publish.all(List.of())).length, fabric.maxBodyBytes(), BULK,
                i -> "message " + i + " of " + bodies.size() + " to topic " + topic);
        List<Long> offsets = new ArrayList<>(bodies.size());
        for (List<String> request : requests) {
            try {
                offsets.addAll(publishRun(topic, request));
            } catch (MemberRefusedException refused) {
                if (offsets.isEmpty()) {
                    throw refused;
                }
                throw new MemberRefusedException(memberId, refused.status(), refused.reason(), refused.getMessage() + "; the first "
                        + offsets.size() + " of the " + bodies.size() + " messages were published before (offsets " + offsets.getFirst()
                        + " to " + offsets.getLast() + ")", refused);
            }
        }
        return offsets;
    }

    /** One publish request; refused as too large (413), its halves, one after the other. */
    private List<Long> publishRun(String topic, List<String> bodies) {
        return RequestBatches.sendHalving(bodies, memberId, "message", run -> fabric.json().writeValueAsBytes(PubSubWire.Publish.all(run)),
                request -> Objects.requireNonNull(call("publish messages to topic " + topic, (client, url) ->
                        client.post().uri("/topics/{topic}/messages", topic).contentType(MediaType.APPLICATION_JSON).body(request)
                                .retrieve().body(PubSubWire.PublishedAll.class)), "the member answered a publish without its offsets")
                        .offsets());
    }

    /**
     * Up to {@code max} messages of the topic from offset {@code from} on (the oldest retained
     * when {@code null}), waiting up to {@code wait} (at most 30 s) when there is none yet.
     *
     * @throws OffsetGoneException when the topic no longer retains {@code from}
     */
    public PubSubWire.Messages fetch(String topic, Long from, int max, Duration wait) {
        return call("read topic " + topic, (client, url) -> client.get()
                .uri(uri -> {
                    uri.path("/topics/{topic}/messages").queryParam("max", max).queryParam("wait", wait.toMillis() + "ms");
                    if (from != null) {
                        uri.queryParam("from", from);
                    }
                    return uri.build(topic);
                })
                .accept(MediaType.APPLICATION_JSON).retrieve().body(PubSubWire.Messages.class), topic, from == null ? -1 : from);
    }

    /** Every topic of the member. */
    public List<PubSubWire.Topic> topics() {
        PubSubWire.Topics topics = call("list topics", (client, url) -> client.get().uri("/topics")
                .accept(MediaType.APPLICATION_JSON).retrieve().body(PubSubWire.Topics.class));
        return topics == null ? List.of() : topics.topics();
    }

    /**
     * Follows a topic from offset {@code from} on ({@code null}: from the next message published
     * after this call) over a stream of server-sent events, handing each message to
     * {@code subscriber} in order, on a thread of its own. When the stream breaks (the member
     * restarted, a network cut, a silent stream) it reconnects after the last offset it handed
     * over, through the registry and the fail-over of {@link FabricClient#call}, so nothing is
     * missed or handed over twice. It ends on {@link Subscription#close()} or {@link FabricClient#close()}, on a refusal, when the
     * member is LOST or STOPPED, when the topic no longer retains the next offset
     * ({@link OffsetGoneException}), or when the subscriber throws; {@link Subscriber#onEnd} says why.
     * A member reached through a bridge is followed by long polls instead ({@link #subscribeByPolling}).
     */
    public Subscription subscribe(String topic, Long from, Subscriber subscriber) {
        return subscribe(topic, from, Subscription.DEFAULT_IDLE_TIMEOUT, subscriber);
    }

    /**
     * {@link #subscribe(String, Long, Subscriber)} that takes a stream for broken when it carries
     * nothing, not even a keep-alive, for {@code idleTimeout} (default 60 s; the member sends a
     * keep-alive every 15 s unless configured otherwise).
     */
    public Subscription subscribe(String topic, Long from, Duration idleTimeout, Subscriber subscriber) {
        long start = startOf(topic, from, subscriber);
        // A bridge relays a member's answers whole, so a stream would never arrive through one: poll instead.
        boolean polling = Reach.of(fabric.registry().get(memberId)) instanceof Reach.Via;
        return Subscription.start(this, topic, start, idleTimeout, polling, subscriber);
    }

    /**
     * {@link #subscribe(String, Long, Subscriber)} by long polls of the JSON fetch (each waits up to
     * 20 s for a message) instead of a stream: what {@code subscribe} does by itself for a member
     * reached through a bridge, which relays whole answers only. Messages carry their {@code at}.
     */
    public Subscription subscribeByPolling(String topic, Long from, Subscriber subscriber) {
        return Subscription.start(this, topic, startOf(topic, from, subscriber), Subscription.DEFAULT_IDLE_TIMEOUT, true, subscriber);
    }

    /** Where a subscription starts: {@code from}, or the topic's next offset now. */
    private long startOf(String topic, Long from, Subscriber subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        if (!PubSubWire.isTopic(topic)) {
            throw new IllegalArgumentException("'" + topic + "' is not a topic name (" + PubSubWire.TOPIC.pattern() + ")");
        }
        if (from != null && from < 0) {
            throw new IllegalArgumentException("from must be an offset from 0, not " + from);
        }
        return from != null ? from : topics().stream().filter(t -> t.name().equals(topic)).mapToLong(PubSubWire.Topic::next)
                .findFirst().orElse(0);
    }

    FabricClient fabric() {
        return fabric;
    }

    private <T> T call(String what, MemberCall<T> call) {
        return call(what, call, null, -1);
    }

    private <T> T call(String what, MemberCall<T> call, String topic, long from) {
        return bound.call((client, url) -> {
            try {
                return call.call(client, url);
            } catch (RestClientResponseException e) {
                throw refused(e, what, url.toString(), topic, from);
            }
        });
    }

    /**
     * The member's refusal as the exception a caller acts on; an answer that means unreachable
     * (502, 503, 504) stays as it is, for the fail-over.
     */
    RuntimeException refused(RestClientResponseException e, String what, String url, String topic, long from) {
        if (FailOver.unreachable(e)) {
            return e;
        }
        return refused(e.getStatusCode().value(), e.getStatusText(), e.getResponseBodyAsByteArray(), what, url, topic, from, e);
    }

    RuntimeException refused(int status, String statusText, byte[] body, String what, String url, String topic, long from, Throwable cause) {
        Problem problem = Problem.decode(status, statusText, body, fabric.json(), "member " + memberId);
        if (status == 502 || status == 503 || status == 504) {
            return HttpServerErrorException.create(HttpStatusCode.valueOf(status), statusText, null, body, StandardCharsets.UTF_8);
        }
        if (status == 410 && PubSubWire.GONE_REASON.equals(problem.reason())) {
            return new OffsetGoneException(memberId, topic, from, oldest(body), "member " + memberId + " at " + url + " could not "
                    + what + ": " + problem.message(), cause);
        }
        return new MemberRefusedException(memberId, status, problem.reason(), "member " + memberId + " at " + url + " refused to "
                + what + ": " + problem.message(), cause);
    }

    private long oldest(byte[] body) {
        try {
            JsonNode node = fabric.json().readTree(body);
            return node.path("oldest").asLong(-1);
        } catch (JacksonException e) {
            return -1;
        }
    }
}
