package dev.fabric.registry.instance;

import org.springframework.http.HttpStatus;

import java.util.List;

/**
 * One page of a long answer (the instance list, a history): at most {@code limit} items after a
 * cursor, and whether more follow. The server answers with a {@code Link: <...>; rel="next"} header
 * while they do.
 *
 * @param items the page
 * @param more whether items follow the last one
 */
public record Page<T>(List<T> items, boolean more) {

    /** What a client gets when it names no limit. */
    public static final int DEFAULT_LIMIT = 500;
    /** The most a page holds. */
    public static final int MAX_LIMIT = 1000;

    /** The page of at most {@code limit} items out of {@code fetched}, which holds up to one more to tell whether more follow. */
    static <T> Page<T> of(List<T> fetched, int limit) {
        return fetched.size() > limit ? new Page<>(List.copyOf(fetched.subList(0, limit)), true) : new Page<>(fetched, false);
    }

    /**
     * @throws RegistryException {@code 400 invalid-limit} when the limit is outside 1 to {@link #MAX_LIMIT}
     */
    public static int requireLimit(int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new RegistryException(HttpStatus.BAD_REQUEST, "invalid-limit",
                    "limit must be 1 to " + MAX_LIMIT + ", was " + limit + "; follow the Link rel=\"next\" header for more");
        }
        return limit;
    }
}
