package dev.fabric.cli.registry;

import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.cli.CliException;
import dev.fabric.cli.ExitCodes;
import dev.fabric.core.keys.FabricKeys;
import org.springframework.http.MediaType;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.util.UriBuilder;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The registry's API as the CLI uses it: every request signed with the local fabric key, every
 * failure turned into a {@link CliException} with the exit code of its class and a next step.
 */
public final class RegistryClient {

    /** How the user can fix a refused signature: where the key came from. */
    public record KeyOrigin(Path directory, String keyId) {}

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final String baseUrl;
    private final String baseUrlSource;
    private final KeyOrigin keyOrigin;
    private final JsonMapper json;
    private final RestClient client;
    private final RestClient streamingClient;

    /**
     * @param baseUrl the registry, e.g. {@code http://127.0.0.1:8470}
     * @param baseUrlSource where that URL came from, for messages ({@code --registry}, {@code $FABRIC_REGISTRY}...)
     * @param timeout the longest a plain request waits for its whole answer
     */
    public RegistryClient(String baseUrl, String baseUrlSource, FabricKeys keys, KeyOrigin keyOrigin, JsonMapper json,
                          Duration timeout) {
        this.baseUrl = baseUrl;
        this.baseUrlSource = baseUrlSource;
        this.keyOrigin = keyOrigin;
        this.json = json;
        this.client = FabricRestClients.signed(keys, CONNECT_TIMEOUT, timeout).baseUrl(baseUrl).build();
        // Spring's read timeout on the JDK client bounds the whole exchange, body included: a watch
        // stream lives as long as the user wants, so it goes through a factory without one.
        this.streamingClient = client.mutate().requestFactory(FabricRestClients.requestFactory(CONNECT_TIMEOUT, null)).build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** {@code GET /api/v1/instances}, filtered; the answer as the registry sent it. */
    public JsonNode instances(InstanceFilter filter) {
        return getJson(uri -> uri.path("/api/v1/instances")
                .queryParamIfPresent("type", Optional.ofNullable(filter.type()))
                .queryParamIfPresent("state", Optional.ofNullable(filter.state()))
                .queryParamIfPresent("parent", Optional.ofNullable(filter.parent()))
                .queryParamIfPresent("session", Optional.ofNullable(filter.session()))
                .build());
    }

    /** {@code GET /api/v1/instances/{id}}. */
    public JsonNode instance(String id) {
        return getJson(uri -> uri.path("/api/v1/instances/{id}").build(id));
    }

    /** {@code GET /api/v1/instances/{id}/history}. */
    public JsonNode history(String id) {
        return getJson(uri -> uri.path("/api/v1/instances/{id}/history").build(id));
    }

    /** {@code GET /api/v1/instances/{id}/sessions}. */
    public JsonNode sessions(String id) {
        return getJson(uri -> uri.path("/api/v1/instances/{id}/sessions").build(id));
    }

    /** {@code GET /api/v1/sessions/{session}}: every instance serving the session, with the registry's revision. */
    public JsonNode sessionMembers(String session) {
        return getJson(uri -> uri.path("/api/v1/sessions/{session}").build(session));
    }

    /** Reads an event stream's body; returns when the stream ends or the reader stops. */
    @FunctionalInterface
    public interface StreamReader {
        void read(InputStream body) throws IOException;
    }

    /**
     * Opens {@code GET /api/v1/watch?since=REV} as {@code text/event-stream} and hands the body to the
     * reader. {@code onOpen} runs once the registry has accepted the stream (status 200).
     */
    public void watch(long since, Runnable onOpen, StreamReader reader) {
        try {
            streamingClient.get()
                    .uri(uri -> uri.path("/api/v1/watch").queryParam("since", since).build())
                    .accept(MediaType.TEXT_EVENT_STREAM)
                    .exchange((request, response) -> {
                        requireSuccess(response);
                        onOpen.run();
                        reader.read(response.getBody());
                        return null;
                    });
        } catch (ResourceAccessException e) {
            throw unreachable(e);
        }
    }

    public <T> T decode(JsonNode node, Class<T> type) {
        try {
            return json.treeToValue(node, type);
        } catch (JacksonException e) {
            throw new CliException(ExitCodes.SERVER_ERROR, "the registry at " + baseUrl + " answered JSON this CLI cannot read: "
                    + e.getOriginalMessage(), List.of("is the CLI as new as the registry? Rebuild it with ./fabric build"));
        }
    }

    private JsonNode getJson(Function<UriBuilder, URI> uri) {
        try {
            return client.get().uri(uri).accept(MediaType.APPLICATION_JSON).exchange((request, response) -> {
                requireSuccess(response);
                byte[] body = response.getBody().readAllBytes();
                try {
                    return json.readTree(body);
                } catch (JacksonException e) {
                    throw new CliException(ExitCodes.SERVER_ERROR, "the registry at " + baseUrl + " answered something that is not JSON ("
                            + response.getHeaders().getContentType() + ")");
                }
            });
        } catch (ResourceAccessException e) {
            throw unreachable(e);
        }
    }

    private void requireSuccess(ClientHttpResponse response) throws IOException {
        if (response.getStatusCode().is2xxSuccessful()) {
            return;
        }
        byte[] body;
        try (InputStream in = response.getBody()) {
            body = in.readNBytes(64 * 1024);
        }
        Problem problem = Problem.decode(response.getStatusCode().value(), response.getStatusText(), body, json);
        throw new CliException(ExitCodes.forStatus(problem.status()), problem.message(), hints(problem));
    }

    private List<String> hints(Problem problem) {
        return switch (problem.status()) {
            case 401, 403 -> List.of("the registry at " + baseUrl + " does not accept this request signed with the keys in "
                            + keyOrigin.directory() + " (key id " + keyOrigin.keyId() + ")",
                    "use the key directory the registry was started with: --keys DIR or $FABRIC_KEYS"
                            + (problem.reason().equals("expired") ? "; check this machine's clock" : ""));
            case 404 -> problem.reason().equals("unknown-instance")
                    ? List.of("`fabric services` lists the registered instances")
                    : List.of("is " + baseUrl + " a fabric registry?");
            case 410 -> List.of("list the instances again (`fabric services -o json`) and watch from its \"revision\"");
            default -> List.of();
        };
    }

    private CliException unreachable(ResourceAccessException e) {
        return new CliException(ExitCodes.UNREACHABLE, "cannot reach the registry at " + baseUrl + " (" + describe(e) + ")",
                List.of("the URL is " + baseUrlSource + ".",
                        "Is the registry running? Start one with ./fabric up, or point --registry or $FABRIC_REGISTRY at a running one."));
    }

    /** A short, human cause of a failed connection; the JDK's own messages are often empty. */
    public static String describe(Throwable failure) {
        return FabricRestClients.describeFailure(failure);
    }
}
