package dev.fabric.cli.http;

import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.spring.FabricRestClients;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
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
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One fabric server as the CLI talks to it: the registry, a spawner, a member's management port or a
 * member's own API (its queue). Every request is signed with the local fabric key; every failure is
 * a {@link CliException} with the exit code of its class, naming who answered (or did not), where
 * its URL came from, and what to do next.
 */
public final class FabricEndpoint {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_PROBLEM_BYTES = 64 * 1024;

    /**
     * Where the requests go and how messages name it.
     *
     * @param who what is at the URL: {@code the registry}, {@code the spawner}, {@code member queue-1}
     * @param source where the URL came from, completing "the URL is ...": {@code given by --spawner}...
     * @param unreachableHints what to do when nothing answers (after the line saying where the URL came from)
     */
    public record Target(String baseUrl, String who, String source, List<String> unreachableHints, InetSocketAddress relay) {
        public Target {
            unreachableHints = List.copyOf(unreachableHints);
        }

        /** A target called directly. */
        public Target(String baseUrl, String who, String source, List<String> unreachableHints) {
            this(baseUrl, who, source, unreachableHints, null);
        }
    }

    /** The key that signs, and the directory it came from, so that a refused signature can say which key to change. */
    public record SigningKey(FabricKeys keys, Path directory) {}

    /**
     * An answer: its status, its JSON body ({@code null} when there was none), and the next page of a
     * paged answer ({@code Link: <...>; rel="next"}), on this server, or {@code null}.
     */
    public record Answer(int status, JsonNode body, URI next) {}

    /**
     * A request whose answer waits for a member to be launched: a spawn, a restart. The spawner
     * answers once the member's process is started, which may take minutes (staging the distribution
     * on an SSH host, waiting for a starting slot), and it goes on launching when the CLI stops waiting.
     *
     * @param timeout how long to wait for the answer, in place of the plain request timeout
     * @param what what was asked, completing "did not answer ...": {@code the spawn}, {@code the restart of queue-1}
     * @param hints what to do when no answer came in time: the commands that show the member's state, a longer timeout
     */
    public record Launch(Duration timeout, String what, List<String> hints) {
        public Launch {
            hints = List.copyOf(hints);
        }
    }

    /** Reads an event stream's body; returns when the stream ends or the reader stops. */
    @FunctionalInterface
    public interface StreamReader {
        void read(InputStream body) throws IOException;
    }

    /** The next steps for a problem the server answered; what it may say depends on which server it is. */
    @FunctionalInterface
    public interface Advice {

        List<String> next(Problem problem, FabricEndpoint endpoint);

        /** The next steps any spawner or member earns: keys, unknown members and sessions, a server that is down. */
        Advice GENERAL = orGeneral(problem -> List.of());

        /** For a spawner or a member: its API's own next steps where it has any ({@code lease-expired}...), else the general ones. */
        static Advice orGeneral(Function<Problem, List<String>> own) {
            return (problem, endpoint) -> {
                List<String> specific = own.apply(problem);
                return specific.isEmpty() ? general(problem, endpoint) : specific;
            };
        }

        private static List<String> general(Problem problem, FabricEndpoint endpoint) {
            return switch (problem.status()) {
                case 401, 403 -> List.of(endpoint.refusal(), "use the key directory of this fabric: --keys DIR or $FABRIC_KEYS");
                case 404 -> switch (problem.reason()) {
                    case "unknown-member" -> List.of("`fabric services --parent SPAWNER_ID` lists a spawner's members; the URL is "
                            + endpoint.target.source());
                    case "unknown-session" -> List.of("`fabric sessions show SESSION` lists a session's members");
                    default -> List.of(endpoint.wrongUrl());
                };
                case 502, 503, 504 -> List.of("retry in a moment; if it persists, see " + endpoint.target.who() + "'s log");
                default -> List.of();
            };
        }
    }

    private final Target target;
    private final SigningKey key;
    private final Advice advice;
    private final JsonMapper json;
    private final RestClient client;

    /** @param timeout the longest a plain request waits for its whole answer */
    public FabricEndpoint(Target target, SigningKey key, Advice advice, JsonMapper json, Duration timeout) {
        this.target = target;
        this.key = key;
        this.advice = advice;
        this.json = json;
        // A member reached through a bridge: the bridge's relay port is the proxy; the target stays the member's URL.
        this.client = FabricRestClients.signed(key.keys(), CONNECT_TIMEOUT, timeout, target.relay()).baseUrl(target.baseUrl()).build();
    }

    public String baseUrl() {
        return target.baseUrl();
    }

    /** Sends a request (with a JSON body, or none) to a path template below the base URL; any answer but a success is a {@link CliException}. */
    public Answer send(HttpMethod method, String path, JsonNode body, Object... uriVariables) {
        return send(method, uri -> uri.path(path).build(uriVariables), body);
    }

    /** Sends a request to the URI built below the base URL (for query parameters); any answer but a success is a {@link CliException}. */
    public Answer send(HttpMethod method, Function<UriBuilder, URI> uri, JsonNode body) {
        return send(client.method(method).uri(uri), body, this::unreachable);
    }

    /**
     * Sends a request that launches a member ({@link Launch}): its answer is awaited for the launch's
     * timeout, not the plain one. When that passes, the failure says so, and that the member may still
     * be starting ({@link ExitCodes#MEMBER_FAILED}): the connection was taken, so it is no
     * "unreachable". A failure to connect stays {@link ExitCodes#UNREACHABLE}.
     */
    public Answer launch(HttpMethod method, String path, JsonNode body, Launch launch, Object... uriVariables) {
        return launch(method, uri -> uri.path(path).build(uriVariables), body, launch);
    }

    /** {@link #launch(HttpMethod, String, JsonNode, Launch, Object...)} to the URI built below the base URL (for query parameters). */
    public Answer launch(HttpMethod method, Function<UriBuilder, URI> uri, JsonNode body, Launch launch) {
        RestClient patient = client.mutate()
                .requestFactory(FabricRestClients.requestFactory(CONNECT_TIMEOUT, launch.timeout(), target.relay())).build();
        return send(patient.method(method).uri(uri), body, failure -> unanswered(failure)
                ? new CliException(ExitCodes.MEMBER_FAILED, where() + " did not answer " + launch.what() + " within "
                        + DurationConverter.format(launch.timeout()) + " (a connection was made): it may still be starting the member",
                        launch.hints())
                : unreachable(failure));
    }

    /** Connected, and then no answer in time: not a refused or timed-out connection, not a broken one. */
    private static boolean unanswered(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return false;
            }
            if (t instanceof HttpTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Reads the next page of a paged answer ({@link Answer#next()}). */
    public Answer next(Answer page) {
        return send(client.method(HttpMethod.GET).uri(page.next()), null, this::unreachable);
    }

    private Answer send(RestClient.RequestBodySpec spec, JsonNode body, Function<ResourceAccessException, CliException> failed) {
        try {
            RestClient.RequestBodySpec request = spec.accept(MediaType.APPLICATION_JSON);
            if (body != null) {
                request.contentType(MediaType.APPLICATION_JSON).body(json.writeValueAsBytes(body));
            }
            return request.exchange((req, response) -> {
                requireSuccess(response);
                byte[] bytes = response.getBody().readAllBytes();
                URI next = nextPage(response.getHeaders().getOrEmpty(HttpHeaders.LINK));
                if (bytes.length == 0) {
                    return new Answer(response.getStatusCode().value(), null, next);
                }
                try {
                    return new Answer(response.getStatusCode().value(), json.readTree(bytes), next);
                } catch (JacksonException e) {
                    throw new CliException(ExitCodes.SERVER_ERROR, where() + " answered something that is not JSON ("
                            + response.getHeaders().getContentType() + ")", List.of(wrongUrl()));
                }
            });
        } catch (ResourceAccessException e) {
            throw failed.apply(e);
        }
    }

    /**
     * Opens a {@code text/event-stream} and hands its body to the reader. {@code onOpen} runs once the
     * server has accepted the stream (status 200).
     */
    public void stream(Function<UriBuilder, URI> uri, Runnable onOpen, StreamReader reader) {
        // Spring's read timeout on the JDK client bounds the whole exchange, body included: a stream
        // lives as long as the user wants, so it goes through a factory without one.
        RestClient streaming = client.mutate().requestFactory(FabricRestClients.requestFactory(CONNECT_TIMEOUT, null, target.relay())).build();
        try {
            streaming.get().uri(uri).accept(MediaType.TEXT_EVENT_STREAM).exchange((request, response) -> {
                requireSuccess(response);
                onOpen.run();
                reader.read(response.getBody());
                return null;
            });
        } catch (ResourceAccessException e) {
            throw unreachable(e);
        }
    }

    /** Reads an answer's JSON as a wire record; JSON of another shape is a {@link ExitCodes#SERVER_ERROR}. */
    public <T> T decode(JsonNode node, Class<T> type) {
        try {
            return json.treeToValue(node, type);
        } catch (JacksonException e) {
            throw new CliException(ExitCodes.SERVER_ERROR, where() + " answered JSON this CLI cannot read: " + e.getOriginalMessage(),
                    List.of("is the CLI as new as " + target.who() + "? Rebuild it with ./fabric build"));
        }
    }

    /** The first hint for a refused signature: who refused which key. */
    public String refusal() {
        return where() + " does not accept this request signed with the keys in " + key.directory() + " (key id " + key.keys().keyId() + ")";
    }

    /** A short, human cause of a failed connection; the JDK's own messages are often empty. */
    public static String describe(Throwable failure) {
        return FabricRestClients.describeFailure(failure);
    }

    private String where() {
        return target.who() + " at " + target.baseUrl();
    }

    private String wrongUrl() {
        return "is " + target.baseUrl() + " the right URL? It is " + target.source();
    }

    /**
     * The page a {@code Link} field names {@code rel="next"}, on this server: only the link's path and
     * query are taken, so a link cannot send a signed request elsewhere. {@code null} when there is none.
     */
    URI nextPage(List<String> links) {
        try {
            return RegistryClient.nextPage(URI.create(target.baseUrl()), links).orElse(null);
        } catch (IllegalArgumentException notAUri) {
            throw new CliException(ExitCodes.SERVER_ERROR, where() + " named a next page that is not a URL: " + String.join(", ", links),
                    List.of("is the CLI as new as " + target.who() + "? Rebuild it with ./fabric build"));
        }
    }

    private void requireSuccess(ClientHttpResponse response) throws IOException {
        if (response.getStatusCode().is2xxSuccessful()) {
            return;
        }
        byte[] body;
        try (InputStream in = response.getBody()) {
            body = in.readNBytes(MAX_PROBLEM_BYTES);
        }
        Problem problem = Problem.decode(response.getStatusCode().value(), response.getStatusText(), body, json, target.who());
        throw new CliException(ExitCodes.forStatus(problem.status()), problem.message(), advice.next(problem, this));
    }

    private CliException unreachable(ResourceAccessException e) {
        List<String> hints = new ArrayList<>();
        hints.add("the URL is " + target.source() + ".");
        hints.addAll(target.unreachableHints());
        return new CliException(ExitCodes.UNREACHABLE, "cannot reach " + where() + " (" + describe(e) + ")", hints);
    }
}
