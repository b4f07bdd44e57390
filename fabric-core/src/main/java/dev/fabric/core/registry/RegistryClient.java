package dev.fabric.core.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.problem.Problem;
import dev.fabric.core.spring.FabricRestClients;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import org.springframework.web.client.RestClientResponseException;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The registry's API for fabric members: every request signed with the fabric key, every failure a
 * {@link RegistryCallException} that says what the registry answered. Thread-safe.
 *
 * <p>{@link #close()} releases its HTTP client (a selector thread and the connections); a call
 * after it, or one it broke off, fails with {@link IllegalStateException}.
 */
public final class RegistryClient implements AutoCloseable {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

    private final URI baseUrl;
    private final RestClient client;
    private final HttpClient http;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final JsonMapper json = JsonMapper.builder().build();

    /**
     * @param baseUrl the registry, e.g. {@code http://127.0.0.1:8470}
     * @param keys the fabric keys that sign every request
     * @param timeout the longest one request waits for its answer
     */
    public RegistryClient(URI baseUrl, FabricKeys keys, Duration timeout) {
        this(baseUrl, keys, timeout, null);
    }

    /**
     * A client whose every call goes through a bridge's relay port (a member that cannot reach the
     * registry itself, docs/connectivity.md); {@code relay} {@code null} calls the registry directly.
     */
    public RegistryClient(URI baseUrl, FabricKeys keys, Duration timeout, InetSocketAddress relay) {
        this.baseUrl = baseUrl;
        this.http = FabricRestClients.httpClient(CONNECT_TIMEOUT, relay);
        this.client = FabricRestClients.signed(keys, FabricRestClients.requestFactory(http, timeout)).baseUrl(baseUrl.toString()).build();
    }

    /**
     * Releases the HTTP client: its connections and its selector thread. Calls under way end with
     * {@link IllegalStateException}, as does every call after this. Closing again does nothing.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            FabricRestClients.release(http);
        }
    }

    public URI baseUrl() {
        return baseUrl;
    }

    /**
     * Registers an instance, or a restart of one under its id with a higher incarnation. A refusal of
     * the moment ({@code 503}, or {@code 401 expired}) is tried again, signed afresh, as
     * {@link RegistrationRetry} says, for up to {@link RegistrationRetry#BUDGET}; registering the same
     * incarnation again is harmless (the registry answers it as a retry).
     */
    public ServiceInstance register(RegistrationRequest request) {
        RegistrationRetry retry = new RegistrationRetry(RegistrationRetry.BUDGET, () -> ThreadLocalRandom.current().nextDouble());
        long started = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            try {
                return call("register " + describe(request.id(), request.type()),
                        () -> client.post().uri("/api/v1/instances").body(request).retrieve().body(ServiceInstance.class));
            } catch (RegistryCallException e) {
                Duration wait = retry.after(e, attempt, Duration.ofNanos(System.nanoTime() - started)).orElseThrow(() -> e);
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** The instance, or empty when the registry does not know the id. */
    public Optional<ServiceInstance> find(String id) {
        try {
            return Optional.of(get(id));
        } catch (RegistryCallException e) {
            if (e.notFound()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    public ServiceInstance get(String id) {
        return call("read instance " + id,
                () -> client.get().uri("/api/v1/instances/{id}", id).retrieve().body(ServiceInstance.class));
    }

    /**
     * Instances, filtered by type, state, parent spawner and session ({@code null}: any), every page of
     * them. The revision is the first page's: watching from it replays every change later pages may
     * already show, so nothing falls between list and watch.
     */
    public InstanceList list(String type, InstanceState state, String parentId, String session) {
        String what = "list instances";
        List<InstanceList> pages = allPages(what, call(what, () -> client.get().uri(uri -> uri.path("/api/v1/instances")
                        .queryParamIfPresent("type", Optional.ofNullable(type))
                        .queryParamIfPresent("state", Optional.ofNullable(state))
                        .queryParamIfPresent("parent", Optional.ofNullable(parentId))
                        .queryParamIfPresent("session", Optional.ofNullable(session))
                        .build())
                .retrieve().toEntity(InstanceList.class)), InstanceList.class);
        List<ServiceInstance> instances = new ArrayList<>();
        pages.forEach(page -> instances.addAll(page.instances()));
        return new InstanceList(pages.getFirst().revision(), instances);
    }

    /** The whole state history of an instance, every page of it. */
    public List<StateTransition> history(String id) {
        String what = "read the history of " + id;
        List<StateTransition[]> pages = allPages(what, call(what,
                () -> client.get().uri("/api/v1/instances/{id}/history", id).retrieve().toEntity(StateTransition[].class)),
                StateTransition[].class);
        List<StateTransition> history = new ArrayList<>();
        pages.forEach(page -> history.addAll(List.of(page)));
        return history;
    }

    /** The first page's body and those of the pages its {@code Link rel="next"} headers lead to, in order. */
    private <B> List<B> allPages(String what, ResponseEntity<B> first, Class<B> type) {
        List<B> bodies = new ArrayList<>();
        ResponseEntity<B> page = first;
        while (true) {
            if (page.getBody() == null) {
                throw new RegistryCallException(page.getStatusCode().value(), "empty-answer",
                        "the registry at " + baseUrl + " answered no body to " + what, null);
            }
            bodies.add(page.getBody());
            Optional<URI> next = nextPage(baseUrl, page.getHeaders().getOrEmpty(HttpHeaders.LINK));
            if (next.isEmpty()) {
                return bodies;
            }
            URI uri = next.get();
            page = call(what, () -> client.get().uri(uri).retrieve().toEntity(type));
        }
    }

    /**
     * The next page named by {@code Link} fields, on this registry: only its path and query are
     * taken, so a link cannot send the signed request elsewhere. Every client of a paged fabric answer
     * reads its {@code Link} fields here.
     *
     * @throws IllegalArgumentException when the next page's link is not a URI
     */
    public static Optional<URI> nextPage(URI baseUrl, List<String> links) {
        for (String field : links) {
            for (String link : field.split(",(?=\\s*<)")) {
                int open = link.indexOf('<');
                int close = link.indexOf('>', open + 1);
                if (open < 0 || close < 0 || !link.substring(close).replace(" ", "").contains(";rel=\"next\"")) {
                    continue;
                }
                URI target = URI.create(link.substring(open + 1, close).strip());
                String path = target.getRawPath() + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery());
                return Optional.of(baseUrl.resolve(path));
            }
        }
        return Optional.empty();
    }

    /**
     * Moves the current incarnation to {@code state}; {@code endpoints} may be {@code null}. A reason
     * longer than the registry keeps is cut ({@link StateChangeRequest#fit}).
     */
    public ServiceInstance changeState(String id, long incarnation, InstanceState state, String reason,
                                       Map<String, String> endpoints) {
        StateChangeRequest request = new StateChangeRequest(state, incarnation, StateChangeRequest.fit(reason), endpoints);
        return call("move " + id + " to " + state,
                () -> client.put().uri("/api/v1/instances/{id}/state", id).body(request).retrieve().body(ServiceInstance.class));
    }

    /** Reports an instance unreachable, or its own failure; a reason too long for the registry is cut. */
    public ServiceInstance report(String id, ReportRequest original) {
        ReportRequest request = new ReportRequest(original.kind(), original.reporter(), original.incarnation(),
                StateChangeRequest.fit(original.reason()));
        return call("report " + request.kind() + " of " + id,
                () -> client.post().uri("/api/v1/instances/{id}/reports", id).body(request).retrieve().body(ServiceInstance.class));
    }

    public void heartbeat(String id, long incarnation) {
        call("heartbeat of " + id, () -> client.post()
                .uri(uri -> uri.path("/api/v1/instances/{id}/heartbeat").queryParam("incarnation", incarnation).build(id))
                .retrieve().toBodilessEntity());
    }

    public void deregister(String id) {
        call("deregister " + id, () -> client.delete().uri("/api/v1/instances/{id}", id).retrieve().toBodilessEntity());
    }

    /** Registers a session id on an instance; true when it was new there (201), false when already there (204). */
    public boolean addSession(String id, String session) {
        return call("add session " + session + " to " + id, () -> client.put()
                .uri("/api/v1/instances/{id}/sessions/{session}", id, session).retrieve().toBodilessEntity())
                .getStatusCode().value() == 201;
    }

    public void removeSession(String id, String session) {
        call("remove session " + session + " from " + id, () -> client.delete()
                .uri("/api/v1/instances/{id}/sessions/{session}", id, session).retrieve().toBodilessEntity());
    }

    /** Every instance serving a session. */
    public InstanceList sessionMembers(String session) {
        return call("list the members of session " + session,
                () -> client.get().uri("/api/v1/sessions/{session}", session).retrieve().body(InstanceList.class));
    }

    /**
     * Opens a rendezvous for a TCP splice with {@code open.peer()} ({@code POST /api/v1/rendezvous},
     * docs/connectivity.md, mode 4); this side joins it as the initiator.
     */
    public dev.fabric.core.splice.RendezvousWire.Opened openRendezvous(dev.fabric.core.splice.RendezvousWire.Open open) {
        return call("open a rendezvous with " + open.peer(), () -> client.post().uri("/api/v1/rendezvous").body(open).retrieve()
                .body(dev.fabric.core.splice.RendezvousWire.Opened.class));
    }

    private <T> T call(String what, Supplier<T> request) {
        if (closed.get()) {
            throw closed(what, null);
        }
        try {
            return request.get();
        } catch (RestClientResponseException e) {
            Problem problem = Problem.decode(e.getStatusCode().value(), e.getStatusText(), e.getResponseBodyAsByteArray(), json,
                    "the registry");
            throw new RegistryCallException(problem.status(), problem.reason(), "the registry at " + baseUrl + " refused to "
                    + what + ": " + problem.message(), e, retryAfter(e.getResponseHeaders()));
        } catch (RestClientException e) {
            if (closed.get()) {
                // close() broke the call off: not the registry's doing.
                throw closed(what, e);
            }
            if (e instanceof ResourceAccessException) {
                throw new RegistryCallException(0, "unreachable", "cannot reach the registry at " + baseUrl + " to " + what
                        + ": " + FabricRestClients.describeFailure(e), e);
            }
            // The answer broke off while being read (the read timeout closes it; the connection dropped):
            // no answer, as far as the caller can tell; the call may or may not have been made.
            throw new RegistryCallException(0, "unreachable", "no whole answer from the registry at " + baseUrl + " to " + what
                    + ": " + FabricRestClients.describeFailure(e) + "; it may or may not have been done", e);
        }
    }

    private static IllegalStateException closed(String what, RuntimeException cause) {
        return new IllegalStateException("this RegistryClient is closed: it cannot " + what, cause);
    }

    /** {@code Retry-After} in seconds (the registry never sends a date), or null. */
    private static Duration retryAfter(HttpHeaders headers) {
        String value = headers == null ? null : headers.getFirst(HttpHeaders.RETRY_AFTER);
        try {
            return value == null ? null : Duration.ofSeconds(Long.parseLong(value.strip()));
        } catch (NumberFormatException notSeconds) {
            return null;
        }
    }

    private static String describe(String id, String type) {
        return id == null ? "a new " + type : type + " " + id;
    }
}
