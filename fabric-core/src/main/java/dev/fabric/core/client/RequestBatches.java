package dev.fabric.core.client;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.ToLongFunction;

/**
 * Cuts a bulk request (tasks to submit, bodies to enqueue or publish) into requests that each stay
 * within the body size the receiving member takes. Every signed request's body is buffered by the
 * member's signature filter up to its {@code fabric.security.signature.max-body-size}; a larger one
 * is refused {@code 413 body-too-large} before anything reads it (docs/security.md). The sizes
 * counted are of the JSON as sent, in UTF-8, escapes included: a task description inside a queue
 * message is a JSON string within JSON, and its quotes grow by a backslash each.
 *
 * <p>Where the limit comes from: the spawner hands its own {@code max-body-size} (512KB unless its
 * operator changed it) to every member it spawns, so {@link #MEMBER_MAX_BODY_BYTES} is what a client
 * counts with unless told otherwise ({@link FabricClient.Builder#maxBodySize}); a member's own roles
 * count with the setting they run with, which is the same. A client that still meets a
 * {@code 413} (a fabric whose limit was lowered) halves the request and sends the halves.
 *
 * <p>An item that cannot go even alone is refused before anything of the bulk is sent, naming the
 * limit and the setting: retrying it would only be refused again.
 */
public final class RequestBatches {

    /** The most bytes a member's request body may have unless its spawner was set otherwise: the spawner's 512KB. */
    public static final long MEMBER_MAX_BODY_BYTES = 512L * 1024;

    /** The setting of a member's (and the spawner's, which hands it on) body limit. */
    public static final String SETTING = "fabric.security.signature.max-body-size";

    private RequestBatches() {
    }

    /** Too large to send even alone: the member would refuse it with {@code 413 body-too-large} every time. */
    public static final class ItemTooLargeException extends IllegalArgumentException {

        private final int index;
        private final long bytes;
        private final long limit;

        ItemTooLargeException(int index, long bytes, long limit, String message) {
            super(message);
            this.index = index;
            this.bytes = bytes;
            this.limit = limit;
        }

        /** The item's place in the list given. */
        public int index() {
            return index;
        }

        /** The bytes of a request that carries it alone. */
        public long bytes() {
            return bytes;
        }

        /** The most a request may have. */
        public long limit() {
            return limit;
        }
    }

    /**
     * Splits {@code items}, in order, into runs that each make a request of at most {@code maxBytes}
     * and {@code maxItems}.
     *
     * @param itemBytes the bytes an item takes in the request's list (its JSON, in UTF-8)
     * @param envelopeBytes the bytes of the request with an empty list ({@code {"bodies":[]}})
     * @param name names item {@code i} in the refusal of one too large ({@code "task 3 of the submission"})
     * @throws ItemTooLargeException when an item with the envelope alone is over {@code maxBytes}; nothing is split then
     */
    public static <T> List<List<T>> split(List<T> items, ToLongFunction<? super T> itemBytes, long envelopeBytes, long maxBytes,
                                          int maxItems, IntFunction<String> name) {
        if (maxItems < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("a request takes at least one item and one byte, not " + maxItems + " and " + maxBytes);
        }
        List<List<T>> runs = new ArrayList<>();
        List<T> run = new ArrayList<>();
        long bytes = envelopeBytes;
        for (int i = 0; i < items.size(); i++) {
            T item = items.get(i);
            // Each item after the first costs a comma as well.
            long size = itemBytes.applyAsLong(item) + 1;
            if (envelopeBytes + size - 1 > maxBytes) {
                throw tooLarge(i, envelopeBytes + size - 1, maxBytes, name);
            }
            if (!run.isEmpty() && (run.size() == maxItems || bytes + size > maxBytes)) {
                runs.add(List.copyOf(run));
                run.clear();
                bytes = envelopeBytes;
            }
            run.add(item);
            bytes += run.size() == 1 ? size - 1 : size;
        }
        if (!run.isEmpty()) {
            runs.add(List.copyOf(run));
        }
        return runs;
    }

    /** The refusal of an item that a request cannot carry even alone. */
    public static ItemTooLargeException tooLarge(int index, long bytes, long limit, IntFunction<String> name) {
        return new ItemTooLargeException(index, bytes, limit, name.apply(index) + " makes a request of " + bytes
                + " bytes even alone, over the " + limit + " bytes a member takes in one request (" + SETTING
                + " on the spawner, which hands it to its members; " + MEMBER_MAX_BODY_BYTES / 1024 + "KB by default)"
                + "; nothing was sent: make it smaller (store large inputs elsewhere and pass a reference), or raise the limit");
    }

    /**
     * Sends {@code items} in one request: {@code body} makes its body, {@code send} sends it and reads the answer's
     * results. A request the member refuses as too large (its limit is lower than counted) goes again in halves, one after
     * the other; one item refused alone is refused for good, the message saying the request's bytes and the setting.
     *
     * @param noun what an item is, for that message ({@code "task"}, {@code "message"})
     */
    static <T, R> List<R> sendHalving(List<T> items, String memberId, String noun, Function<List<T>, byte[]> body,
                                      Function<byte[], List<R>> send) {
        byte[] request = body.apply(items);
        try {
            return send.apply(request);
        } catch (MemberRefusedException refused) {
            if (!tooLarge(refused)) {
                throw refused;
            }
            if (items.size() == 1) {
                throw new MemberRefusedException(memberId, refused.status(), refused.reason(), refused.getMessage() + " (a request of "
                        + request.length + " bytes carrying one " + noun + "; the member's limit is its " + SETTING
                        + ", which its spawner sets)", refused);
            }
            List<R> results = new ArrayList<>(sendHalving(items.subList(0, items.size() / 2), memberId, noun, body, send));
            results.addAll(sendHalving(items.subList(items.size() / 2, items.size()), memberId, noun, body, send));
            return results;
        }
    }

    /** Whether a member's refusal is its signature filter's: the request's body was over its limit, and nothing of it was done. */
    public static boolean tooLarge(RuntimeException refusal) {
        return refusal instanceof MemberRefusedException refused && refused.status() == 413;
    }
}
