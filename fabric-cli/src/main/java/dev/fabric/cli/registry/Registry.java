package dev.fabric.cli.registry;

import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.http.Problem;
import org.springframework.http.HttpMethod;
import org.springframework.web.util.UriBuilder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The registry's API as the CLI uses it: its paths, and the next steps for its own problems. The
 * answers are returned as the registry sent them ({@code -o json} prints them unchanged);
 * {@link #decode} reads them as {@link RegistryWire} records.
 */
public final class Registry {

    /** Who the registry is in messages. */
    public static final String WHO = "the registry";
    /** The endpoint through which a spawner or a member takes management requests. */
    public static final String MANAGEMENT = "management";
    /** What to do when nothing answers at the registry's URL (after the line saying where the URL came from). */
    public static final List<String> UNREACHABLE_HINTS = List.of(
            "Is the registry running? Start one with ./fabric up, or point --registry or $FABRIC_REGISTRY at a running one.");

    /** The next steps for the registry's problems. */
    public static final FabricEndpoint.Advice ADVICE = Registry::advice;

    private final FabricEndpoint endpoint;

    /** @param endpoint the registry, made with {@link #WHO}, {@link #UNREACHABLE_HINTS} and {@link #ADVICE} */
    public Registry(FabricEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    public String baseUrl() {
        return endpoint.baseUrl();
    }

    /**
     * {@code GET /api/v1/instances}, filtered, every page of it: the instances of the pages after the
     * first are added to the first's, whose revision stays (watching from it misses nothing later
     * pages may already show).
     */
    public JsonNode instances(RegistryWire.Filter filter) {
        return all(uri -> uri.path("/api/v1/instances")
                .queryParamIfPresent("type", Optional.ofNullable(filter.type()))
                .queryParamIfPresent("state", Optional.ofNullable(filter.state()))
                .queryParamIfPresent("parent", Optional.ofNullable(filter.parent()))
                .queryParamIfPresent("session", Optional.ofNullable(filter.session()))
                .build());
    }

    /**
     * The registry's revision now, from the smallest page of {@code GET /api/v1/instances}: a watch
     * from it misses no change from then on.
     */
    public long revision() {
        return get(uri -> uri.path("/api/v1/instances").queryParam("limit", 1).build()).path("revision").asLong();
    }

    /** {@code GET /api/v1/instances/{id}}. */
    public JsonNode instance(String id) {
        return get(uri -> uri.path("/api/v1/instances/{id}").build(id));
    }

    /** {@code GET /api/v1/instances/{id}}, read. */
    public RegistryWire.Instance member(String id) {
        return decode(instance(id), RegistryWire.Instance.class);
    }

    /** {@code GET /api/v1/instances/{id}/history}, every page of it. */
    public JsonNode history(String id) {
        return all(uri -> uri.path("/api/v1/instances/{id}/history").build(id));
    }

    /** {@code GET /api/v1/instances/{id}/sessions}. */
    public JsonNode sessions(String id) {
        return get(uri -> uri.path("/api/v1/instances/{id}/sessions").build(id));
    }

    /** {@code GET /api/v1/sessions/{session}}: every instance serving the session (every page), with the registry's revision. */
    public JsonNode sessionMembers(String session) {
        return all(uri -> uri.path("/api/v1/sessions/{session}").build(session));
    }

    /**
     * Opens {@code GET /api/v1/watch?since=REV} as {@code text/event-stream} and hands the body to the
     * reader. {@code onOpen} runs once the registry has accepted the stream (status 200).
     */
    public void watch(long since, Runnable onOpen, FabricEndpoint.StreamReader reader) {
        endpoint.stream(uri -> uri.path("/api/v1/watch").queryParam("since", since).build(), onOpen, reader);
    }

    public <T> T decode(JsonNode node, Class<T> type) {
        return endpoint.decode(node, type);
    }

    private JsonNode get(Function<UriBuilder, URI> uri) {
        return bodyOf(endpoint.send(HttpMethod.GET, uri, null));
    }

    /**
     * A paged answer whole: the first page, with the items of every page its {@code Link rel="next"}
     * leads to appended, in order. A page is a JSON array, or an object whose {@code instances} is one.
     */
    private JsonNode all(Function<UriBuilder, URI> uri) {
        FabricEndpoint.Answer page = endpoint.send(HttpMethod.GET, uri, null);
        JsonNode whole = bodyOf(page);
        while (page.next() != null) {
            page = endpoint.next(page);
            ArrayNode items = items(whole);
            JsonNode more = items(bodyOf(page));
            if (items == null || !(more instanceof ArrayNode next)) {
                break; // not a list after all: show what came
            }
            items.addAll(next);
        }
        return whole;
    }

    private static ArrayNode items(JsonNode page) {
        JsonNode items = page instanceof ObjectNode object ? object.get("instances") : page;
        return items instanceof ArrayNode array ? array : null;
    }

    private static JsonNode bodyOf(FabricEndpoint.Answer answer) {
        return answer.body() == null ? MissingNode.getInstance() : answer.body();
    }

    private static List<String> advice(Problem problem, FabricEndpoint registry) {
        return switch (problem.status()) {
            case 401, 403 -> List.of(registry.refusal(), "use the key directory the registry was started with: --keys DIR or $FABRIC_KEYS"
                    + (problem.reason().equals("expired") ? "; check this machine's clock" : ""));
            case 404 -> problem.reason().equals("unknown-instance")
                    ? List.of("`fabric services` lists the registered instances")
                    : List.of("is " + registry.baseUrl() + " a fabric registry?");
            case 410 -> List.of("list the instances again (`fabric services -o json`) and watch from its \"revision\"");
            default -> List.of();
        };
    }
}
