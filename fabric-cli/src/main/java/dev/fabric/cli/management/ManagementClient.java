package dev.fabric.cli.management;

import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.cli.CliException;
import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.registry.Problem;
import dev.fabric.cli.registry.RegistryClient;
import dev.fabric.core.keys.FabricKeys;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The management API of a spawner or a member, or a member's own API (its queue), as the CLI uses
 * it: every request signed with the local fabric key, every failure a {@link CliException} that
 * names who answered (or did not), where its URL came from, and what to do next.
 */
public final class ManagementClient {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /** An answer: its status and its JSON body ({@code null} when there was none). */
    public record Answer(int status, JsonNode body) {}

    private final String baseUrl;
    private final String who;
    private final String source;
    private final List<String> unreachableHints;
    private final Function<Problem, List<String>> advice;
    private final RegistryClient.KeyOrigin keyOrigin;
    private final JsonMapper json;
    private final RestClient client;

    /**
     * @param who what is at the URL, for messages: {@code the spawner}, {@code member queue-1}
     * @param source where the URL came from, completing "the URL is ...": {@code given by --spawner}...
     * @param unreachableHints what to do when nothing answers (after the line saying where the URL came from)
     * @param advice what to do about the problems of the API at hand ({@code lease-expired}...): its hints replace the
     *               general ones when it has any
     */
    public ManagementClient(String baseUrl, String who, String source, List<String> unreachableHints,
                            Function<Problem, List<String>> advice, FabricKeys keys, RegistryClient.KeyOrigin keyOrigin, JsonMapper json,
                            Duration timeout) {
        this.baseUrl = baseUrl;
        this.who = who;
        this.source = source;
        this.unreachableHints = List.copyOf(unreachableHints);
        this.advice = advice;
        this.keyOrigin = keyOrigin;
        this.json = json;
        this.client = FabricRestClients.signed(keys, CONNECT_TIMEOUT, timeout).baseUrl(baseUrl).build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** Sends a request (with a JSON body, or none) and returns a successful answer; any other is a {@link CliException}. */
    public Answer exchange(HttpMethod method, String path, JsonNode body, Object... uriVariables) {
        try {
            RestClient.RequestBodySpec request = client.method(method).uri(path, uriVariables).accept(MediaType.APPLICATION_JSON);
            if (body != null) {
                request.contentType(MediaType.APPLICATION_JSON).body(json.writeValueAsBytes(body));
            }
            return request.exchange((req, response) -> {
                requireSuccess(response);
                byte[] bytes = response.getBody().readAllBytes();
                if (bytes.length == 0) {
                    return new Answer(response.getStatusCode().value(), null);
                }
                try {
                    return new Answer(response.getStatusCode().value(), json.readTree(bytes));
                } catch (JacksonException e) {
                    throw new CliException(ExitCodes.SERVER_ERROR, who + " at " + baseUrl + " answered something that is not JSON ("
                            + response.getHeaders().getContentType() + ")", List.of("is " + baseUrl + " the right URL? It is " + source));
                }
            });
        } catch (ResourceAccessException e) {
            List<String> hints = new ArrayList<>();
            hints.add("the URL is " + source + ".");
            hints.addAll(unreachableHints);
            throw new CliException(ExitCodes.UNREACHABLE, "cannot reach " + who + " at " + baseUrl + " (" + RegistryClient.describe(e) + ")", hints);
        }
    }

    /** Reads an answer's JSON as a wire record; JSON of another shape is a {@link ExitCodes#SERVER_ERROR}. */
    public <T> T decode(JsonNode node, Class<T> type) {
        try {
            return json.treeToValue(node, type);
        } catch (JacksonException e) {
            throw new CliException(ExitCodes.SERVER_ERROR, who + " at " + baseUrl + " answered JSON this CLI cannot read: "
                    + e.getOriginalMessage(), List.of("is the CLI as new as " + who + "? Rebuild it with ./fabric build"));
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
        Problem problem = Problem.decode(response.getStatusCode().value(), response.getStatusText(), body, json, who);
        throw new CliException(ExitCodes.forStatus(problem.status()), problem.message(), hints(problem));
    }

    private List<String> hints(Problem problem) {
        List<String> specific = advice.apply(problem);
        if (!specific.isEmpty()) {
            return specific;
        }
        return switch (problem.status()) {
            case 401, 403 -> List.of(who + " at " + baseUrl + " does not accept this request signed with the keys in "
                            + keyOrigin.directory() + " (key id " + keyOrigin.keyId() + ")",
                    "use the key directory of this fabric: --keys DIR or $FABRIC_KEYS");
            case 404 -> switch (problem.reason()) {
                case "unknown-member" -> List.of("`fabric services --parent SPAWNER_ID` lists a spawner's members; the URL is " + source);
                case "unknown-session" -> List.of("`fabric sessions show SESSION` lists a session's members");
                default -> List.of("is " + baseUrl + " the right URL? It is " + source);
            };
            case 502, 503, 504 -> List.of("retry in a moment; if it persists, see " + who + "'s log");
            default -> List.of();
        };
    }
}
