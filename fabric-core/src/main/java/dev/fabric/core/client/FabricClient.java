package dev.fabric.core.client;

import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.problem.Problem;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.ReportRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.splice.SpliceGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientResponseException;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client side of the fabric: calls members by id and, when a call fails, reports the member,
 * has its spawner restart it under its id and retries (docs/spawner.md, "Fail-over"); and
 * reconnects an application that failed over itself to its sessions' members.
 *
 * <p>{@link #call(String, MemberCall)} looks the member up in the registry and hands the call a
 * signed {@code RestClient} aimed at the member's endpoint. When the call cannot reach the member
 * (no connection, no answer in time, a broken exchange, or 502/503/504), the client asks the
 * registry about the member and then:
 * <ul>
 *   <li>RUNNING somewhere else (a new incarnation or address): runs the call there;</li>
 *   <li>still RUNNING where the call failed, or SUSPECT: reports it UNREACHABLE to the registry
 *       (as this client's {@linkplain Builder#name name}), then has it restarted as below;</li>
 *   <li>DEAD or FAILED: asks the member's spawner (its {@code parentId} in the registry, or the node that adopted it) to restart
 *       it under the same id, waits until the registry shows it RUNNING with the new, higher
 *       incarnation, and runs the call there;</li>
 *   <li>PENDING or BOOTSTRAPPING: its spawner is restarting it already; waits for it likewise;</li>
 *   <li>LOST: raises {@link MemberLostException}; STOPPED: raises {@link MemberStoppedException}.</li>
 * </ul>
 * The call is run at most twice. A restart that does not show RUNNING within
 * {@link Builder#restartTimeout} raises {@link RestartTimeoutException}; a spawner that cannot
 * restart it, or a second failure, raises {@link MemberUnavailableException}.
 *
 * <p>Every request (to the registry, the spawner and the members) is signed with the fabric key.
 * Thread-safe; waits poll the registry at {@link Builder#pollInterval} and sleep in between.
 *
 * <p>A client holds HTTP connections and threads until it is {@linkplain #close() closed}: make one
 * for the application's life, or close each one made, with try-with-resources.
 *
 * <pre>{@code
 * try (FabricClient fabric = FabricClient.builder(URI.create("http://127.0.0.1:8470"), FabricKeys.load(keyDir))
 *         .name("my-app").build()) {
 *     JsonNode status = fabric.call("queue-1a2b3c4d", (client, url) ->
 *             client.get().uri("/management/v1/status").retrieve().body(JsonNode.class));
 * }
 * }</pre>
 *
 * <p>Runs on {@code spring-web}, Apache HttpClient 5 and Jackson 3 ({@code tools.jackson.core:jackson-databind}),
 * which come with fabric-core.
 */
public final class FabricClient implements AutoCloseable {

    /** The endpoint every member publishes: its management port. */
    public static final String MANAGEMENT = "management";

    private static final Logger log = LoggerFactory.getLogger(FabricClient.class);
    private static final int MAX_REASON = 1024;

    private final String name;
    private final RegistryClient registry;
    private final RestClient http;
    private final RestClient spawnerHttp;
    private final Duration restartTimeout;
    private final Duration pollInterval;
    private final Duration failedGrace;
    private final JsonMapper json = JsonMapper.builder().build();
    private final FabricKeys keys;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final long maxBodyBytes;
    /** Clients through each bridge's relay port, by that port's address. */
    private final Map<InetSocketAddress, RestClient> relayed = new ConcurrentHashMap<>();
    /** The same without a read timeout, for streams. */
    private final Map<InetSocketAddress, RestClient> relayedStreaming = new ConcurrentHashMap<>();
    private final RestClient streamingHttp;
    /** Mode 4 members: spliced connections on demand, the bridge when splicing fails; null when the client splices nothing. */
    private final SplicedReach splices;
    /** Clients through each splice gateway, renewed when the gateway upgrades so new requests take the splice. */
    private final Map<String, GatewayClient> spliced = new ConcurrentHashMap<>();

    private record GatewayClient(long upgrades, RestClient client) {}

    /** What {@link #close()} releases: every HTTP client this client made, in the order made. */
    private final Queue<Runnable> releases = new ConcurrentLinkedQueue<>();
    /** The subscriptions open on this client, which {@link #close()} ends. */
    private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private FabricClient(Builder builder) {
        this.name = builder.name;
        this.keys = builder.keys;
        this.connectTimeout = builder.connectTimeout;
        this.requestTimeout = builder.requestTimeout;
        this.maxBodyBytes = builder.maxBodyBytes;
        this.registry = new RegistryClient(builder.registryUrl, builder.keys, builder.registryTimeout, builder.relay);
        // One JDK client (one selector thread) for the member calls that take it: streams, the
        // spawner's restarts, and every call through a relay.
        HttpClient jdk = jdkClient(builder.relay);
        // Direct calls (a task's lease, publish, submission, the finals feed) on the caller's thread over
        // pooled connections; through a relay, and streams, with the JDK client as before.
        if (builder.relay == null) {
            HttpComponentsClientHttpRequestFactory pooled = FabricRestClients.pooled(builder.connectTimeout, builder.requestTimeout);
            releases.add(() -> FabricRestClients.release(pooled));
            this.http = FabricRestClients.signed(builder.keys, pooled).build();
        } else {
            this.http = FabricRestClients.signed(builder.keys, FabricRestClients.requestFactory(jdk, builder.requestTimeout)).build();
        }
        this.streamingHttp = FabricRestClients.signed(builder.keys, FabricRestClients.requestFactory(jdk, null)).build();
        // A restart stops the old incarnation first, gracefully (its spawner's stop-grace, 10 s by
        // default): that request may take longer than a call, but no longer than the restart may.
        this.spawnerHttp = http.mutate().requestFactory(FabricRestClients.requestFactory(jdk, builder.restartTimeout)).build();
        this.restartTimeout = builder.restartTimeout;
        this.pollInterval = builder.pollInterval;
        this.failedGrace = builder.failedGrace;
        // A client that reaches nothing but a bridge cannot meet anyone at the registry.
        this.splices = builder.splicing && builder.relay == null ? new SplicedReach(registry, keys, connectTimeout) : null;
    }

    /** A JDK client through {@code relay} (null: direct) that {@link #close()} releases. */
    private HttpClient jdkClient(InetSocketAddress relay) {
        HttpClient client = FabricRestClients.httpClient(connectTimeout, relay);
        releases.add(() -> FabricRestClients.release(client));
        return client;
    }

    /**
     * Releases what this client holds: its subscriptions end (their subscribers hear
     * {@link Subscriber#onEnd} with no failure, as on {@link Subscription#close()}), calls under way
     * (a long poll, a task manager's wait, a stream) are broken off and fail with
     * {@link IllegalStateException}, and its HTTP connections, splice gateways and threads are
     * released. Every call after this, on the client or on what it handed out ({@link #bind},
     * {@link #pubsub}, {@link #tasks}), fails with {@link IllegalStateException} ("this FabricClient
     * is closed"; the {@link #registry()} it handed out: "this RegistryClient is closed"). Tasks on a
     * pilot manager run on: a new client's {@link TaskManager} waits for them again. Closing again
     * does nothing.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List.copyOf(subscriptions).forEach(Subscription::close);
        subscriptions.clear();
        if (splices != null) {
            splices.close();
        }
        registry.close();
        for (Runnable release; (release = releases.poll()) != null; ) {
            release.run();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    /** Refuses a call once closed. */
    void ensureOpen() {
        if (closed.get()) {
            throw closed(null);
        }
    }

    /** The failure of a call after {@link #close()}, or of one it broke off ({@code cause}). */
    IllegalStateException closed(Throwable cause) {
        return new IllegalStateException("this FabricClient is closed (" + name + ")", cause);
    }

    /** Follows {@code subscription} until it ends, so that {@link #close()} ends it; ends it at once when closed already. */
    Subscription opened(Subscription subscription) {
        subscriptions.add(subscription);
        if (closed.get()) {
            subscription.close();
        }
        return subscription;
    }

    /** A subscription that ended. */
    void ended(Subscription subscription) {
        subscriptions.remove(subscription);
    }

    /**
     * How this client reaches mode 4 member {@code memberId} now (docs/connectivity.md): spliced, or
     * relayed through its bridge and why; empty when it has called no such member.
     */
    public Optional<SpliceGateway.Path> splicePath(String memberId) {
        if (splices == null) {
            return Optional.empty();
        }
        return splices.gateways().entrySet().stream().filter(e -> e.getKey().startsWith(memberId + "#"))
                .map(e -> e.getValue().path()).reduce((first, second) -> second);
    }

    /** A client of the registry at {@code registryUrl}, signing with {@code keys}. */
    public static Builder builder(URI registryUrl, FabricKeys keys) {
        return new Builder(registryUrl, keys);
    }

    /**
     * A client for a saved connection: the keys are loaded from its key directory.
     *
     * @throws dev.fabric.core.keys.FabricKeysException when the keys are missing or unsafe
     */
    public static Builder builder(FabricConnection connection) {
        return new Builder(connection.registryUrl(), FabricKeys.load(connection.keyDirectory()));
    }

    /**
     * Application fail-over in one step: loads the keys the connection names, connects to its
     * registry and sends CONNECT to every member of each of its sessions ({@link #connect}). The
     * answer's {@link Reconnection#client() client} is the caller's to close; when this throws, it
     * is closed already.
     *
     * @throws dev.fabric.core.keys.FabricKeysException when the keys are missing or unsafe
     * @throws RegistryCallException when the registry cannot list a session's members
     */
    public static Reconnection reconnect(FabricConnection connection) {
        FabricClient client = builder(connection).build();
        try {
            return client.connect(connection.sessions());
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** This client's name: the reporter of its UNREACHABLE reports. */
    public String name() {
        return name;
    }

    /** The most bytes it sends a member in one request body ({@link Builder#maxBodySize}); bulk calls split by it. */
    public long maxBodyBytes() {
        return maxBodyBytes;
    }

    /** The registry client this client uses, signed with the same keys. */
    public RegistryClient registry() {
        ensureOpen();
        return registry;
    }

    /**
     * Calls a member on its management endpoint, with the fail-over described above.
     *
     * @throws MemberLostException when the member is LOST
     * @throws MemberStoppedException when it was stopped on purpose
     * @throws MemberUnavailableException when it could not be reached nor brought back
     * @throws RegistryCallException when the registry does not know the member or cannot be asked
     */
    public <T> T call(String memberId, MemberCall<T> call) {
        return call(memberId, MANAGEMENT, call);
    }

    /**
     * Calls a member on one of the endpoints it publishes in the registry (e.g. its role's
     * {@code queue} endpoint), with the fail-over described above.
     */
    public <T> T call(String memberId, String endpoint, MemberCall<T> call) {
        return call(memberId, endpoint, call, false);
    }

    /**
     * The pubsub member {@code memberId}: publish to its topics, fetch them, subscribe to them
     * (docs/roles.md, "pubsub"), with the fail-over of {@link #call}. A member id the registry does not
     * know is refused, at the first call, as by {@link #call}: {@link RegistryCallException} ({@code 404
     * unknown-instance}).
     *
     * @throws IllegalArgumentException when {@code memberId} is null, blank or not an id
     */
    public PubSub pubsub(String memberId) {
        ensureOpen();
        return new PubSub(this, TaskManager.checkId("member", memberId));
    }

    /**
     * {@link #call(String, String, MemberCall)} for a stream: the client handed to the call has no
     * read timeout, since a stream lives as long as its reader wants (a subscription).
     */
    <T> T stream(String memberId, String endpoint, MemberCall<T> call) {
        return call(memberId, endpoint, call, true);
    }

    JsonMapper json() {
        return json;
    }

    Duration requestTimeout() {
        return requestTimeout;
    }

    private <T> T call(String memberId, String endpoint, MemberCall<T> call, boolean streaming) {
        Objects.requireNonNull(call, "call");
        ensureOpen();
        ServiceInstance seen = registry.get(memberId);
        ServiceInstance target = reach(seen, FailOver.beforeCall(seen), null);
        try {
            return invoke(target, endpoint, call, streaming);
        } catch (RuntimeException failure) {
            if (closed.get()) {
                throw closed(failure);
            }
            if (!FailOver.unreachable(failure)) {
                throw failure;
            }
            if (splices != null && SplicedReach.applies(target) && failure instanceof org.springframework.web.client.ResourceAccessException) {
                // A spliced connection that dropped took the call with it; the member may be fine. Once more, on a new
                // connection (spliced again, or through the bridge), before anything is reported or restarted.
                log.info("member {}: the call over its splice gateway failed ({}); once more on a new connection", memberId,
                        describe(failure));
                try {
                    return invoke(target, endpoint, call, streaming);
                } catch (RuntimeException again) {
                    if (!FailOver.unreachable(again)) {
                        throw again;
                    }
                    failure.addSuppressed(again);
                }
            }
            String url = FailOver.endpointOf(target, endpoint);
            log.info("member {} incarnation {} unreachable at {} ({}); asking the registry", memberId, target.incarnation(), url,
                    describe(failure));
            ServiceInstance now;
            try {
                now = registry.get(memberId);
            } catch (RegistryCallException e) {
                e.addSuppressed(failure);
                throw e;
            }
            FailOver.Step step = FailOver.afterFailure(target, endpoint, now);
            if (step instanceof FailOver.Restart(boolean report) && report) {
                reportUnreachable(target, url, failure);
            }
            ServiceInstance next = reach(now, step, failure);
            try {
                return invoke(next, endpoint, call, streaming);
            } catch (RuntimeException again) {
                if (!FailOver.unreachable(again)) {
                    throw again;
                }
                MemberUnavailableException unavailable = new MemberUnavailableException(memberId, "member " + memberId
                        + " is still unreachable after fail-over: the call failed at " + url + " (" + describe(failure)
                        + "), then at " + FailOver.endpointOf(next, endpoint) + " (" + describe(again) + ", incarnation "
                        + next.incarnation() + "); see its state history (fabric service " + memberId + ")", again);
                unavailable.addSuppressed(failure);
                throw unavailable;
            }
        }
    }

    /**
     * Sends CONNECT ({@code POST /management/v1/connect}) to every member of each session, with the
     * fail-over of {@link #call}: a dead member is restarted first, a LOST one is reported as such.
     * A session without members is reported as a failure too.
     *
     * @throws RegistryCallException when the registry cannot list a session's members
     */
    public Reconnection connect(Collection<String> sessions) {
        ensureOpen();
        List<Reconnection.Connected> connected = new ArrayList<>();
        List<Reconnection.Failure> failed = new ArrayList<>();
        for (String session : sessions) {
            List<ServiceInstance> members = registry.sessionMembers(session).instances();
            if (members.isEmpty()) {
                failed.add(new Reconnection.Failure(session, null, null, new IllegalStateException("no member serves session " + session
                        + " in the registry at " + registry.baseUrl() + "; add it to a member (fabric sessions add ID " + session + ")")));
            }
            for (ServiceInstance member : members) {
                try {
                    ConnectAnswer answer = call(member.id(), (client, url) -> connectTo(member.id(), session, client, url));
                    connected.add(new Reconnection.Connected(session, answer.id(), answer.incarnation(), answer.role(), answer.endpoints()));
                    log.info("session {}: connected to member {} incarnation {}", session, answer.id(), answer.incarnation());
                } catch (FabricClientException | RegistryCallException e) {
                    log.warn("session {}: member {} did not accept CONNECT: {}", session, member.id(), e.getMessage());
                    failed.add(new Reconnection.Failure(session, member.id(), member.type(), e));
                }
            }
        }
        return new Reconnection(this, connected, failed);
    }

    /**
     * The task manager of an application's session on a pilot manager member: registers the session
     * on that member (so a reconnected application finds it, {@link Reconnection#tasks}) and
     * submits, waits for, lists, cancels and reads tasks there.
     *
     * @param pilotManager the id of a {@code pilot-manager} member
     * @param session      the application's session id; its tasks are recorded with it
     * @throws IllegalArgumentException when either is null, blank or not an id
     * @throws RegistryCallException    when the registry does not know {@code pilotManager} ({@code 404 unknown-instance}), as {@link #call}
     * @throws MemberRefusedException   when the member refuses the session (not a pilot manager, say)
     */
    public TaskManager tasks(String pilotManager, String session) {
        TaskManager.checkId("pilot manager", pilotManager);
        TaskManager.checkId("session", session);
        call(pilotManager, (client, url) -> {
            try {
                return client.put().uri("/management/v1/sessions/{session}", session).retrieve().toBodilessEntity();
            } catch (RestClientResponseException e) {
                if (FailOver.unreachable(e)) {
                    throw e;
                }
                throw refused(pilotManager, e, "refused session " + session);
            }
        });
        return new TaskManager(this, pilotManager, session);
    }

    /** A member's refusal (4xx or 500) as the exception the application sees, with the problem's reason. */
    MemberRefusedException refused(String memberId, RestClientResponseException e, String what) {
        Problem problem = problem(e, "member " + memberId);
        return new MemberRefusedException(memberId, e.getStatusCode().value(), problem.reason(), "member " + memberId + " " + what
                + ": " + problem.message(), e);
    }

    /** The member's answer to CONNECT. */
    record ConnectAnswer(String id, long incarnation, String role, Map<String, String> endpoints) {}

    private ConnectAnswer connectTo(String memberId, String session, RestClient client, URI url) {
        try {
            return client.post().uri("/management/v1/connect").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("session", session)).retrieve().body(ConnectAnswer.class);
        } catch (RestClientResponseException e) {
            if (FailOver.unreachable(e)) {
                throw e;
            }
            Problem problem = problem(e, "member " + memberId);
            throw new MemberRefusedException(memberId, e.getStatusCode().value(), problem.reason(), "member " + memberId + " at " + url
                    + " refused CONNECT to session " + session + ": " + problem.message(), e);
        }
    }

    /**
     * Many calls to one member's endpoint without a registry look-up each ({@link BoundMember}): for a
     * member's own clients of another member, such as an agent's of its queue. The member is looked
     * up on the first call.
     */
    public BoundMember bind(String memberId, String endpoint) {
        ensureOpen();
        return new BoundMember(this, memberId, endpoint);
    }

    /** Where {@link BoundMember} sends its calls: the member's endpoint as the registry shows it now, reached as it says. */
    BoundMember.Target target(String memberId, String endpoint) {
        ensureOpen();
        ServiceInstance seen = registry.get(memberId);
        return target(reach(seen, FailOver.beforeCall(seen), null), endpoint, false);
    }

    private <T> T invoke(ServiceInstance member, String endpoint, MemberCall<T> call, boolean streaming) {
        BoundMember.Target target = target(member, endpoint, streaming);
        return call.call(target.client(), target.baseUrl());
    }

    private BoundMember.Target target(ServiceInstance member, String endpoint, boolean streaming) {
        String url = FailOver.endpointOf(member, endpoint);
        if (url == null) {
            throw new MemberUnavailableException(member.id(), "member " + member.id() + " (" + FailOver.describe(member)
                    + ") publishes no '" + endpoint + "' endpoint in the registry; it has "
                    + (member.endpoints() == null ? "none" : member.endpoints().keySet()), null);
        }
        RestClient client = switch (Reach.of(member)) {
            case Reach.Direct _ -> streaming ? streamingHttp : http;
            case Reach.Via(String bridgeId) -> throughBridge(member, bridgeId, streaming);
        };
        SpliceGateway gateway = splices == null || !SplicedReach.applies(member) ? null
                : splices.gateways().entrySet().stream().filter(e -> e.getKey().startsWith(member.id() + "#" + member.incarnation() + "@"))
                        .map(Map.Entry::getValue).findFirst().orElse(null);
        if (gateway != null) {
            return new BoundMember.Target(client.mutate().baseUrl(url).build(), URI.create(url), gateway::upgrades, gateway.upgrades());
        }
        return new BoundMember.Target(client.mutate().baseUrl(url).build(), URI.create(url));
    }

    /**
     * A client that sends a member's requests through its bridge's relay port. They stay signed for
     * the member's own URL: the bridge relays them unchanged, and the member verifies them.
     */
    private RestClient throughBridge(ServiceInstance member, String bridgeId, boolean streaming) {
        ServiceInstance bridge;
        try {
            bridge = registry.get(bridgeId);
        } catch (RegistryCallException e) {
            throw new MemberUnavailableException(member.id(), "member " + member.id() + " is reached through bridge " + bridgeId
                    + ", which the registry cannot show: " + e.getMessage(), e);
        }
        InetSocketAddress relay;
        try {
            bridge = Reach.outermost(bridge, registry::get);
            relay = Reach.relayOf(bridge);
        } catch (IllegalArgumentException e) {
            throw new MemberUnavailableException(member.id(), "member " + member.id() + " is reached through bridge " + bridgeId
                    + ", but " + e.getMessage() + "; see fabric service " + bridgeId, e);
        }
        if (splices != null && SplicedReach.applies(member)) {
            return throughGateway(splices.gateway(member, relay), streaming);
        }
        if (streaming) {
            return relayedStreaming.computeIfAbsent(relay, address -> signedClient(address, null));
        }
        return relayed.computeIfAbsent(relay, address -> signedClient(address, requestTimeout));
    }

    /**
     * A client whose proxy is the member's splice gateway; a new one (so new connections, which the
     * gateway splices) once the gateway has upgraded from the bridge to a splice.
     */
    private RestClient throughGateway(SpliceGateway gateway, boolean streaming) {
        InetSocketAddress proxy = gateway.proxy();
        long upgrades = gateway.upgrades();
        return spliced.compute(proxy + (streaming ? "/stream" : ""), (key, current) -> current != null && current.upgrades() == upgrades
                ? current
                : new GatewayClient(upgrades, signedClient(proxy, streaming ? null : requestTimeout)))
                .client();
    }

    /** A signed client through {@code proxy} over a JDK client of its own, which {@link #close()} releases. */
    private RestClient signedClient(InetSocketAddress proxy, Duration readTimeout) {
        ensureOpen();
        return FabricRestClients.signed(keys, FabricRestClients.requestFactory(jdkClient(proxy), readTimeout)).build();
    }

    /** Carries out a step until there is a member to call, or throws what the step means. */
    private ServiceInstance reach(ServiceInstance seen, FailOver.Step step, RuntimeException failure) {
        return switch (step) {
            case FailOver.Call(ServiceInstance member) -> member;
            case FailOver.AwaitRunning(long incarnation) -> awaitRunning(seen.id(), incarnation, failure);
            case FailOver.Restart _ -> awaitRunning(seen.id(), restart(seen, failure).incarnation(), failure);
            case FailOver.Lost(String reason) -> throw new MemberLostException(seen.id(), reason, failure);
            case FailOver.Stopped(String reason) -> throw new MemberStoppedException(seen.id(), reason, failure);
        };
    }

    /** The caller that failed to reach a member tells the registry at once. Advisory: a refused report changes nothing here. */
    private void reportUnreachable(ServiceInstance member, String url, RuntimeException failure) {
        String reason = truncate("FabricClient " + name + " could not reach " + url + ": " + describe(failure));
        try {
            registry.report(member.id(), new ReportRequest(ReportRequest.Kind.UNREACHABLE, name, member.incarnation(), reason));
        } catch (RegistryCallException e) {
            log.info("member {}: the registry did not take the UNREACHABLE report: {}", member.id(), e.getMessage());
        }
    }

    /**
     * Asks the member's spawner for a new incarnation under the same id; returns the spawner's answer (PENDING).
     * Its spawner is the node that supervises it: its parent, or the node that adopted it ({@link ServiceInstance#supervisorOf}).
     */
    private ServiceInstance restart(ServiceInstance member, RuntimeException failure) {
        String id = member.id();
        String supervisor = ServiceInstance.supervisorOf(member);
        if (supervisor == null || supervisor.isBlank()) {
            throw new MemberUnavailableException(id, "member " + id + " (" + FailOver.describe(member)
                    + ") has no spawner in the registry (no parentId), so no one can restart it", failure);
        }
        ServiceInstance spawner;
        try {
            spawner = registry.get(supervisor);
        } catch (RegistryCallException e) {
            throw new MemberUnavailableException(id, "member " + id + " (" + FailOver.describe(member) + ") needs a restart, but its spawner "
                    + supervisor + " cannot be found: " + e.getMessage(), e);
        }
        String spawnerUrl = FailOver.endpointOf(spawner, MANAGEMENT);
        if (spawnerUrl == null) {
            throw new MemberUnavailableException(id, "member " + id + " needs a restart, but its spawner " + spawner.id() + " ("
                    + FailOver.describe(spawner) + ") publishes no management endpoint", failure);
        }
        log.info("member {} is {}: asking its spawner {} at {} to restart it", id, FailOver.describe(member), spawner.id(), spawnerUrl);
        try {
            // ?incarnation: when the spawner (or another caller) saw the same death first, no second restart.
            ServiceInstance restarted = spawnerHttp.post()
                    .uri(spawnerUrl + "/api/v1/members/{id}/restart?incarnation={n}", id, member.incarnation())
                    .retrieve().body(ServiceInstance.class);
            if (restarted == null) {
                throw new MemberUnavailableException(id, "spawner " + spawner.id() + " at " + spawnerUrl + " answered the restart of "
                        + id + " without the member", failure);
            }
            log.info("member {}: restarting as incarnation {}", id, restarted.incarnation());
            return restarted;
        } catch (RestClientResponseException e) {
            Problem problem = problem(e, "spawner " + spawner.id());
            switch (problem.reason()) {
                case "member-lost" -> throw new MemberLostException(id, problem.detail(), e);
                case "member-stopped" -> throw new MemberStoppedException(id, problem.detail(), e);
                default -> throw new MemberUnavailableException(id, "spawner " + spawner.id() + " at " + spawnerUrl
                        + " refused to restart member " + id + ": " + problem.message(), e);
            }
        } catch (ResourceAccessException e) {
            throw new MemberUnavailableException(id, "member " + id + " (" + FailOver.describe(member) + ") needs a restart, but its spawner "
                    + spawner.id() + " at " + spawnerUrl + " cannot be reached (" + describe(e) + "); is the spawner running?", e);
        }
    }

    /** Polls the registry until the member is RUNNING at {@code incarnation} or later, or the restart ends badly. */
    private ServiceInstance awaitRunning(String id, long incarnation, RuntimeException failure) {
        long deadline = System.nanoTime() + restartTimeout.toNanos();
        String lastSeen = "nothing yet";
        long failedSince = 0;
        boolean failing = false;
        while (true) {
            if (closed.get()) {
                throw closed(failure);
            }
            try {
                ServiceInstance now = registry.get(id);
                lastSeen = FailOver.describe(now);
                switch (FailOver.whileWaiting(now, incarnation)) {
                    case FailOver.Ready(ServiceInstance member) -> {
                        log.info("member {} is RUNNING again as incarnation {}", id, member.incarnation());
                        return member;
                    }
                    case FailOver.Ended(FailOver.Lost _, String reason) -> throw new MemberLostException(id, reason, failure);
                    case FailOver.Ended(FailOver.Stopped _, String reason) -> throw new MemberStoppedException(id, reason, failure);
                    case FailOver.Ended _ -> throw failedRestart(id, lastSeen, failure);
                    case FailOver.Failing _ -> {
                        if (!failing) {
                            failing = true;
                            failedSince = System.nanoTime();
                        } else if (System.nanoTime() - failedSince >= failedGrace.toNanos()) {
                            throw failedRestart(id, lastSeen, failure);
                        }
                    }
                    case FailOver.KeepWaiting _ -> failing = false;
                }
            } catch (RegistryCallException e) {
                if (!e.unreachable()) {
                    throw e;
                }
                // The registry may be failing over itself: keep asking until the deadline.
                lastSeen = "registry unreachable: " + e.getMessage();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new RestartTimeoutException(id, restartTimeout, lastSeen);
            }
            try {
                Thread.sleep(Duration.ofNanos(Math.min(left, pollInterval.toNanos())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MemberUnavailableException(id, "interrupted while waiting for member " + id + " to come back (" + lastSeen + ")", e);
            }
        }
    }

    private static MemberUnavailableException failedRestart(String id, String lastSeen, RuntimeException failure) {
        return new MemberUnavailableException(id, "member " + id + " failed while restarting (" + lastSeen
                + "); see its state history (fabric service " + id + ") and its spawner's log", failure);
    }

    private Problem problem(RestClientResponseException e, String who) {
        return Problem.decode(e.getStatusCode().value(), e.getStatusText(), e.getResponseBodyAsByteArray(), json, who);
    }

    /** A short cause: an answer's status, or why no answer came. */
    static String describe(Throwable failure) {
        if (failure instanceof RestClientResponseException answer) {
            return "HTTP " + answer.getStatusCode().value();
        }
        return FabricRestClients.describeFailure(failure);
    }

    private static String truncate(String text) {
        return text.length() <= MAX_REASON ? text : text.substring(0, MAX_REASON - 3) + "...";
    }

    /** Settings of a {@link FabricClient}; every one has a default. */
    public static final class Builder {

        private final URI registryUrl;
        private final FabricKeys keys;
        private String name = "fabric-client-" + ProcessHandle.current().pid();
        private Duration connectTimeout = Duration.ofSeconds(3);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration registryTimeout = Duration.ofSeconds(10);
        private Duration restartTimeout = Duration.ofMinutes(2);
        private Duration pollInterval = Duration.ofMillis(250);
        private Duration failedGrace = Duration.ofSeconds(15);
        private InetSocketAddress relay;
        private boolean splicing = true;
        private long maxBodyBytes = RequestBatches.MEMBER_MAX_BODY_BYTES;

        private Builder(URI registryUrl, FabricKeys keys) {
            this.registryUrl = Objects.requireNonNull(registryUrl, "registryUrl");
            this.keys = Objects.requireNonNull(keys, "keys");
        }

        /** Who this client is in its UNREACHABLE reports (default {@code fabric-client-<pid>}); at most 128 characters. */
        public Builder name(String name) {
            if (name == null || name.isBlank() || name.length() > 128) {
                throw new IllegalArgumentException("a client name is 1 to 128 characters, not '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /** How long a connection to a member, the spawner or the registry may take to open (default 3 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * The longest one request to a member waits for its answer (default 30 s); a call that waits
         * longer counts as unreachable. A direct call (no bridge) waits this long for each part of the
         * answer, a call through a bridge for the whole answer.
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /**
         * How long to wait for a restarted member to show RUNNING in the registry (default 2 min: a
         * JVM start and a bootstrap); also the longest the restart request to its spawner may take.
         */
        public Builder restartTimeout(Duration timeout) {
            this.restartTimeout = positive(timeout, "restartTimeout");
            return this;
        }

        /** How often the registry is asked during that wait (default 250 ms). */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = positive(interval, "pollInterval");
            return this;
        }

        /**
         * How long a restarted member seen FAILED is given to be declared LOST before the restart
         * counts as failed (default 15 s). A member that cannot recover its state reports itself
         * FAILED and exits; its spawner declares it LOST once the process has ended, within its
         * stop-grace (10 s by default). Keep this above the spawner's stop-grace.
         */
        public Builder failedGrace(Duration grace) {
            this.failedGrace = positive(grace, "failedGrace");
            return this;
        }

        /**
         * Sends every request, to the registry and to members, through a bridge's relay port: for a
         * client that can reach nothing but its bridge, as a member spawned with {@code via} (default:
         * direct, and through a member's own bridge for a member the registry shows behind one).
         */
        public Builder relay(InetSocketAddress bridgeRelay) {
            this.relay = bridgeRelay;
            return this;
        }

        /**
         * Whether members in mode 4 are reached over spliced connections made on demand, the bridge
         * carrying what no splice can (default: true; false sends everything for them through their bridge).
         */
        public Builder splicing(boolean splice) {
            this.splicing = splice;
            return this;
        }

        /**
         * The most bytes one request body to a member may have: its signature filter's
         * {@code fabric.security.signature.max-body-size}, which the spawner hands to every member
         * (default 512 KiB, the spawner's default). Bulk calls ({@link TaskManager#submit(String, java.util.List)},
         * {@link PubSub#publishAll}) send requests of at most this; set it to the fabric's value when
         * its operator changed it. A member that refuses a bulk request as too large all the same
         * gets it again in halves.
         */
        public Builder maxBodySize(long bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxBodySize must be at least 1024 bytes (a member's max-body-size), not " + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        public FabricClient build() {
            return new FabricClient(this);
        }

        private static Duration positive(Duration value, String what) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, not " + value);
            }
            return value;
        }
    }
}
