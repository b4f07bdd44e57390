package dev.fabric.spawner.member;

import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ReportRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.stream.HeartbeatStream;
import dev.fabric.core.registry.stream.MemberHeartbeat;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.sealing.SealedKeys;
import dev.fabric.core.sealing.SealingException;
import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.core.client.Reach;
import dev.fabric.spawner.reach.ReverseChannel;
import dev.fabric.spawner.role.Role;
import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.StateUnrecoverableException;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.HttpStatus;

import java.net.URI;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One member's life: keys delivered, configured by its spawner, role started, registered RUNNING,
 * heartbeating; or an exit with a {@link BootstrapExit} status that tells its spawner why not.
 * Once RUNNING it spawns members of its own with the keys it was sealed ({@link SpawningNode}).
 */
public final class MemberNode implements SpawningNode {

    private static final Logger log = LoggerFactory.getLogger(MemberNode.class);

    /** The role configuration key naming the bridge (its relay URL) a member is reached through. */
    public static final String VIA = "via";

    /** Where the member is in its life, for {@code GET /management/v1/status}. */
    public enum Phase { AWAITING_KEYS, AWAITING_CONFIGURATION, RUNNING, EXITING }

    private final MemberSettings settings;
    private final MemberKeys keys;
    private final KeyPair ephemeral = KeySealing.newEphemeralKeyPair();
    /** Proves, in step 4a, that this is the process that redeemed the password (BootstrapProofs). */
    private final KeyPair bootstrapKey = Ed25519.generate();
    private final Map<String, Role> roles;
    private final URI managementUrl;
    private final ConfigurableApplicationContext context;
    private final CountDownLatch keysDelivered = new CountDownLatch(1);
    private final CountDownLatch configured = new CountDownLatch(1);
    private volatile Phase phase = Phase.AWAITING_KEYS;
    private volatile RegistryClient registry;
    private volatile Role role;
    private final AtomicBoolean roleStopped = new AtomicBoolean();
    /** The reverse channel to a bridge, for a member configured with {@link #VIA}; its bridge's id. */
    private volatile ReverseChannel channel;
    private volatile String viaBridge;
    /** For a member reached through a bridge: the registry called directly, tried when the bridge cannot be reached. */
    private volatile RegistryClient directRegistry;
    /** Mode 4: how its bootstrap connection was made ("spliced A <-> B", or relayed), and when; null in other modes. */
    private volatile String bootstrapPath;
    private volatile boolean bootstrapRelayed;
    private volatile java.time.Instant bootstrapPathSince;
    /** A member that reaches the registry itself heartbeats over a heartbeat stream (docs/registry.md#heartbeat-streams). */
    private volatile MemberHeartbeat streamed;
    /** Its RUNNING registration is in the registry: heartbeats, and registrations that add to it, wait for that. */
    private volatile boolean inRegistry;

    public MemberNode(MemberSettings settings, MemberKeys keys, List<Role> roles, int port, ConfigurableApplicationContext context) {
        this.settings = settings;
        this.keys = keys;
        Map<String, Role> byName = new LinkedHashMap<>();
        roles.forEach(r -> byName.put(r.name(), r));
        this.roles = Map.copyOf(byName);
        this.managementUrl = URI.create("http://" + settings.advertisedHost() + ":" + port);
        this.context = context;
    }

    public MemberSettings settings() {
        return settings;
    }

    @Override
    public URI managementUrl() {
        return managementUrl;
    }

    @Override
    public String id() {
        return settings.serviceId();
    }

    @Override
    public Optional<FabricKeys> keys() {
        return keys.keys();
    }

    @Override
    public Optional<URI> registryUrl() {
        RegistryClient client = registry;
        return client == null ? Optional.empty() : Optional.of(client.baseUrl());
    }

    @Override
    public boolean running() {
        return phase == Phase.RUNNING;
    }

    @Override
    public void membersStopping() {
        Role current = role;
        if (current != null) {
            current.membersStopping();
        }
    }

    public Phase phase() {
        return phase;
    }

    /** The member's ephemeral X25519 public key, base64 of its X.509 encoding: the keys are sealed to it. */
    public String publicKey() {
        return Base64.getEncoder().encodeToString(ephemeral.getPublic().getEncoded());
    }

    /** The public half of this member's Ed25519 bootstrap key, base64 of its X.509 encoding. */
    public String bootstrapKey() {
        return BootstrapProofs.encode(bootstrapKey.getPublic());
    }

    /** The mode 3 hello: who this member is, its keys, and proof that it knows its one-time password. */
    public BootstrapWire.Hello hello(String challenge) {
        String publicKey = publicKey();
        String bootstrap = bootstrapKey();
        return new BootstrapWire.Hello(settings.serviceId(), settings.incarnation(), publicKey, bootstrap,
                BootstrapProofs.helloProof(settings.otp(), settings.serviceId(), settings.incarnation(), challenge, publicKey, bootstrap));
    }

    /** The id of the bridge it is reached through, once its channel is open; null otherwise. */
    String viaBridge() {
        return viaBridge;
    }

    /** Mode 4: records how the connection to its spawner was made, for its registration ({@link Reach#SPLICE}). */
    void splicedWith(String how, boolean relayed) {
        bootstrapPath = how;
        bootstrapRelayed = relayed;
        bootstrapPathSince = java.time.Instant.now();
    }

    /** Mode 4: how its bootstrap connection was made so far, or null. */
    String bootstrapPath() {
        return bootstrapPath;
    }

    /** Opens the sealed keys (bound to this member's id) and installs them; false when already installed. */
    boolean deliver(SealedKeys.Encoded sealed, String keyId, URI registryUrl) {
        FabricKeys opened;
        try {
            opened = KeySealing.open(sealed.decode(), ephemeral, settings.serviceId());
        } catch (SealingException | IllegalArgumentException e) {
            exit(BootstrapExit.KEYS_UNSEALABLE, "the sealed fabric keys could not be opened: " + e.getMessage());
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "keys-unsealable", "the sealed keys do not open with this member's key");
        }
        if (!opened.keyId().equals(keyId)) {
            exit(BootstrapExit.KEYS_UNSEALABLE, "the delivered keys have id " + opened.keyId() + ", not the announced " + keyId);
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "keys-unsealable", "the delivered keys are not the announced ones");
        }
        if (!keys.install(opened)) {
            return false;
        }
        registry = new RegistryClient(registryUrl, opened, Duration.ofSeconds(10));
        if (settings.via() != null) {
            // Before the spawner's setup check, which comes in over the channel (docs/connectivity.md).
            attachToBridge(settings.via().toString());
        }
        phase = Phase.AWAITING_CONFIGURATION;
        keysDelivered.countDown();
        log.info("member {}: fabric keys installed (key id {})", settings.serviceId(), opened.keyId());
        return true;
    }

    boolean awaitKeys(Duration timeout) throws InterruptedException {
        return keysDelivered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean awaitConfiguration(Duration timeout) throws InterruptedException {
        return configured.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Step 4b and 5: the spawner's signed PUT /management/v1/role. On a restart the role recovers
     * its old state first; when it cannot, the member reports the failure and exits
     * STATE_UNRECOVERABLE, and its spawner marks it LOST.
     */
    public synchronized BootstrapWire.Status configure(BootstrapWire.Configure request) {
        if (phase == Phase.RUNNING) {
            if (role != null && role.name().equals(request.role())) {
                return status();
            }
            throw new SpawnerException(HttpStatus.CONFLICT, "already-configured", "member " + settings.serviceId() + " already runs role "
                    + role.name());
        }
        if (phase == Phase.AWAITING_KEYS && keys.keys().isPresent()) {
            // Its keys are in and it is opening its channel to its bridge (FABRIC_VIA): a spawner that dials it
            // directly (modes 1 and 3) may configure it meanwhile; it is configured once the channel is open.
            try {
                awaitKeys(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (phase != Phase.AWAITING_CONFIGURATION) {
            throw new SpawnerException(HttpStatus.CONFLICT, "not-ready", "member " + settings.serviceId() + " is " + phase);
        }
        Role chosen = roles.get(request.role());
        if (chosen == null || !chosen.name().equals(settings.role())) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "unknown-role", "member " + settings.serviceId() + " was started for role "
                    + settings.role() + " and runs roles " + roles.keySet() + ", not '" + request.role() + "'");
        }
        RoleContext roleContext = new RoleContext(settings.serviceId(), settings.incarnation(), settings.dataDir(),
                request.config() == null ? Map.of() : request.config(), request.restart());
        if (request.restart()) {
            try {
                chosen.recover(roleContext);
                log.info("member {}: role {} recovered its state from {}", settings.serviceId(), chosen.name(), settings.dataDir());
            } catch (StateUnrecoverableException e) {
                reportFailure("could not recover its state: " + e.getMessage());
                exit(BootstrapExit.STATE_UNRECOVERABLE, "role " + chosen.name() + " could not recover its state: " + e.getMessage());
                throw new SpawnerException(HttpStatus.CONFLICT, "state-unrecoverable", "member " + settings.serviceId()
                        + " could not recover its state: " + e.getMessage());
            }
        }
        String via = roleContext.config().get(VIA);
        if (via != null && channel == null) {
            attachToBridge(via);
        }
        try {
            chosen.start(roleContext);
        } catch (RuntimeException e) {
            reportFailure("role " + chosen.name() + " failed to start: " + e.getMessage());
            exit(BootstrapExit.ROLE_FAILED, "role " + chosen.name() + " failed to start: " + e);
            throw new SpawnerException(HttpStatus.INTERNAL_SERVER_ERROR, "role-failed", "role " + chosen.name() + " failed to start: "
                    + e.getMessage());
        }
        role = chosen;
        ReverseChannel open = channel;
        if (open != null) {
            chosen.relayPort().ifPresent(open::relayOthersTo);
        }
        // RUNNING here before the registry says so: whoever learns it is RUNNING there (a watch, a list) and asks it finds it so.
        phase = Phase.RUNNING;
        register();
        configured.countDown();
        return status();
    }

    /**
     * A member configured with {@code via} (a bridge's relay URL) is reached through that bridge and
     * calls the registry through it (docs/connectivity.md): it opens its reverse channel first, then
     * sends its registration and heartbeats through the bridge.
     */
    private void attachToBridge(String via) {
        ReverseChannel opened;
        String bridgeId;
        try {
            URI bridgeUrl = URI.create(via);
            opened = new ReverseChannel(bridgeUrl, settings.serviceId(), settings.incarnation(), managementUrl,
                    managementUrl.getPort(), keys.keys().orElseThrow(), Duration.ofSeconds(30));
            bridgeId = opened.open(Duration.ofSeconds(15));
            directRegistry = registry;
            registry = new RegistryClient(registry.baseUrl(), keys.keys().orElseThrow(), Duration.ofSeconds(10),
                    ReverseChannel.relayAddress(bridgeUrl));
        } catch (ReverseChannel.RefusedException | IllegalArgumentException e) {
            reportFailure("could not open its channel to its bridge: " + e.getMessage());
            exit(BootstrapExit.REGISTRY_UNREACHABLE, "could not open its channel to the bridge " + via + ": " + e.getMessage());
            throw new SpawnerException(HttpStatus.BAD_GATEWAY, "bridge-unreachable", "member " + settings.serviceId()
                    + " could not open its channel to the bridge " + via + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", "member " + settings.serviceId() + " is stopping");
        }
        channel = opened;
        viaBridge = bridgeId;
    }

    /**
     * Mode 4: records in its registration how the last caller that asked for a splice reached it
     * ({@link Reach#ON_DEMAND}); the registry keeps the rest of the registration. A registry that cannot
     * be told is logged: the splice, or the bridge, carries the caller's requests all the same.
     */
    void reachedOnDemand(String how) {
        RegistryClient client = registry;
        if (!registeredRunning() || client == null) {
            return;
        }
        try {
            client.register(new RegistrationRequest(settings.serviceId(), settings.role(), null, InstanceState.RUNNING,
                    settings.incarnation(), settings.spawnerId(), settings.connectivity(), endpoints(),
                    Map.of(Reach.ON_DEMAND, how, Reach.ON_DEMAND_SINCE, java.time.Instant.now().toString())));
        } catch (RegistryCallException e) {
            log.warn("member {}: could not record how it was reached ({}): {}", settings.serviceId(), how, e.getMessage());
        }
    }

    private Map<String, String> endpoints() {
        Map<String, String> endpoints = new LinkedHashMap<>();
        endpoints.put("management", managementUrl.toString());
        role.endpoints().forEach((name, path) -> endpoints.put(name, managementUrl.resolve(path).toString()));
        return endpoints;
    }

    /** Step 5: RUNNING in the registry, with the endpoints and the role's policy for its spawner. */
    private void register() {
        Map<String, String> endpoints = endpoints();
        try {
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("role.replace-when-lost", Boolean.toString(role.policy().replaceWhenLost()));
            if (viaBridge != null) {
                metadata.put(Reach.VIA, viaBridge);
            }
            if (bootstrapPath != null) {
                metadata.put(Reach.SPLICE, bootstrapRelayed ? "relayed through bridge " + (viaBridge != null ? viaBridge : settings.via())
                        + " (" + bootstrapPath + ")" : bootstrapPath);
                metadata.put(Reach.SPLICE_SINCE, bootstrapPathSince.toString());
            }
            registry.register(new RegistrationRequest(settings.serviceId(), settings.role(), null, InstanceState.RUNNING,
                    settings.incarnation(), settings.spawnerId(), settings.connectivity(), endpoints, metadata));
        } catch (RegistryCallException e) {
            exit(BootstrapExit.REGISTRY_UNREACHABLE, "could not register RUNNING: " + e.getMessage());
            throw new SpawnerException(HttpStatus.BAD_GATEWAY, "registry-unreachable", e.getMessage());
        }
        if (viaBridge == null) {
            streamed = new MemberHeartbeat(registry, new HeartbeatStream(registry.baseUrl(), keys.keys().orElseThrow(), settings.serviceId(),
                    settings.incarnation(), Duration.ofSeconds(10), Clock.systemUTC()), settings.serviceId(), settings.incarnation());
        }
        inRegistry = true;
        log.info("member {} incarnation {}: RUNNING as {} at {}", settings.serviceId(), settings.incarnation(), role.name(), endpoints);
    }

    /** RUNNING, and registered so in the registry: what a caller that needs its registration (CONNECT) waits for. */
    boolean registeredRunning() {
        return inRegistry && phase == Phase.RUNNING;
    }

    /** Whether its bootstrap is over: configured and registered RUNNING (its spawner's call answered next), or exiting. */
    boolean bootstrapOver() {
        return configured.getCount() == 0 || phase == Phase.EXITING;
    }

    /** One heartbeat; a stale incarnation means a newer one took over: this one leaves. */
    void heartbeat() {
        if (!registeredRunning()) {
            return;
        }
        try {
            try {
                MemberHeartbeat fast = streamed;
                if (fast != null) {
                    fast.beat();
                } else {
                    registry.heartbeat(settings.serviceId(), settings.incarnation());
                }
            } catch (RegistryCallException e) {
                RegistryClient direct = directRegistry;
                if (direct == null || !e.unreachable()) {
                    throw e;
                }
                // The bridge is down (restarting, say): where the registry can be reached directly, the member stays alive meanwhile.
                log.info("member {}: heartbeat through the bridge failed ({}); sending it directly", settings.serviceId(), e.getMessage());
                direct.heartbeat(settings.serviceId(), settings.incarnation());
            }
        } catch (RegistryCallException e) {
            if (e.status() == 409) {
                log.warn("member {} incarnation {}: superseded ({}); exiting", settings.serviceId(), settings.incarnation(), e.reason());
                exit(0, "superseded by a newer incarnation");
            } else {
                log.warn("member {}: heartbeat failed: {}", settings.serviceId(), e.getMessage());
            }
        }
    }

    /** {@code GET /management/v1/status}. */
    public BootstrapWire.Status status() {
        return status(null);
    }

    /** {@code GET /management/v1/status?challenge=C}: the status, signed over the challenge with the bootstrap key. */
    public BootstrapWire.Status status(String challenge) {
        Role current = role;
        String keyId = keys.keys().map(FabricKeys::keyId).orElse(null);
        String proof = challenge == null ? null
                : BootstrapProofs.statusProof(bootstrapKey.getPrivate(), settings.serviceId(), settings.incarnation(), keyId, challenge);
        return new BootstrapWire.Status(settings.serviceId(), settings.incarnation(), settings.role(), phase.name(), keyId,
                current == null ? Map.of() : current.status(), proof);
    }

    /** The registry, once the keys are in. */
    @Override
    public RegistryClient registry() {
        RegistryClient client = registry;
        if (client == null) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", "member " + settings.serviceId() + " has no keys yet");
        }
        return client;
    }

    /**
     * Stops the role so its state is durable, once: at shutdown before the web server's graceful
     * shutdown waits for requests ({@link RoleShutdown}: the role's long polls and streams end then),
     * or else with the node.
     */
    void stopRole() {
        Role current = role;
        if (current != null && roleStopped.compareAndSet(false, true)) {
            current.stop();
        }
    }

    /** At the end of the shutdown: the bridge's channel closed, the role stopped if it was not yet. */
    void shutdown() {
        ReverseChannel open = channel;
        if (open != null) {
            open.close();
        }
        stopRole();
    }

    private void reportFailure(String reason) {
        try {
            registry.report(settings.serviceId(), new ReportRequest(ReportRequest.Kind.FAILED, settings.serviceId(),
                    settings.incarnation(), reason));
        } catch (RegistryCallException e) {
            log.warn("member {}: could not report its failure: {}", settings.serviceId(), e.getMessage());
        }
    }

    /** Exits the JVM with a bootstrap status, after the current answer has gone out. */
    void exit(BootstrapExit exit, String message) {
        log.error("member {} exits with status {} ({}): {}", settings.serviceId(), exit.code(), exit.meaning(), message);
        exit(exit.code(), message);
    }

    private void exit(int code, String message) {
        if (phase == Phase.EXITING) {
            return;
        }
        phase = Phase.EXITING;
        // Not a daemon (a thread inherits that from its creator, often a virtual thread): the JVM must wait for the status.
        Thread.ofPlatform().name("member-exit").daemon(false).start(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            System.exit(SpringApplication.exit(context, () -> code));
        });
    }

    /** What the registry says of this member now (for CONNECT). */
    ServiceInstance registered() {
        return registry().get(settings.serviceId());
    }
}
