package dev.fabric.spawner.bootstrap;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.otp.OtpRejectedException;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.RegistryException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.sealing.SealedKeys;
import dev.fabric.core.sealing.SealingException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.member.BootstrapExit;
import dev.fabric.spawner.spawn.SpawnerProperties;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientResponseException;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The spawner's side of the bootstrap handshake (seed 003, "Create/Bootstrap a new service";
 * docs/spawner.md). Each step logs under its own logger ({@code fabric.bootstrap.<step>}) and is
 * recorded in the member's state history, so an operator sees where a bootstrap stopped.
 */
@Component
@Profile("!member")
public class Bootstrapper {

    private static final Logger otpLog = LoggerFactory.getLogger("fabric.bootstrap.otp");
    private static final Logger redeemLog = LoggerFactory.getLogger("fabric.bootstrap.redeem");
    private static final Logger dialLog = LoggerFactory.getLogger("fabric.bootstrap.dial");
    private static final Logger verifyLog = LoggerFactory.getLogger("fabric.bootstrap.verify");
    private static final Logger configureLog = LoggerFactory.getLogger("fabric.bootstrap.configure");
    private static final Logger runningLog = LoggerFactory.getLogger("fabric.bootstrap.running");

    private final OneTimePasswords otps;
    private final FabricKeys keys;
    private final RegistryClient registry;
    private final RestClient members;
    private final SpawnerProperties properties;
    private final ConcurrentMap<String, Handshake> handshakes = new ConcurrentHashMap<>();

    public Bootstrapper(OneTimePasswords otps, FabricKeys keys, RegistryClient registry, RestClient memberClient,
                        SpawnerProperties properties) {
        this.otps = otps;
        this.keys = keys;
        this.registry = registry;
        this.members = memberClient;
        this.properties = properties;
    }

    /** One incarnation's handshake in progress. */
    private record Handshake(String serviceId, long incarnation, OneTimePassword otp, CompletableFuture<Reached> redeemed) {}

    /** Where the member's management port is, and the bootstrap key its answers in step 4a must be signed with. */
    private record Reached(URI managementUrl, String bootstrapKey) {}

    /** Step 1: a fresh one-time password for this incarnation, recorded as a step of its history. */
    public OneTimePassword open(String serviceId, long incarnation) {
        OneTimePassword otp = otps.issue(serviceId, properties.otpTtl());
        handshakes.put(serviceId, new Handshake(serviceId, incarnation, otp, new CompletableFuture<>()));
        otpLog.info("member {} incarnation {}: one-time password issued, valid for {}", serviceId, incarnation, text(properties.otpTtl()));
        step(serviceId, incarnation, InstanceState.PENDING, "one-time password issued (valid for " + text(properties.otpTtl()) + ")");
        return otp;
    }

    /** Forgets the handshake and its password (a failed launch, a stop, an ended bootstrap). */
    public void close(String serviceId, long incarnation) {
        handshakes.computeIfPresent(serviceId, (id, h) -> {
            if (h.incarnation() != incarnation) {
                return h;
            }
            otps.discard(id);
            h.redeemed().completeExceptionally(new BootstrapFailure("bootstrap abandoned"));
            return null;
        });
    }

    /**
     * Step 3, modes 1 and 2: the member presents its password and ephemeral key; the keys are
     * released sealed to that key. A refused password fails the bootstrap: the member will not get
     * the keys, and the caller gets 403 with the reason.
     */
    public BootstrapWire.Released redeem(BootstrapWire.Redeem redeem) {
        Handshake handshake = handshakes.get(redeem.serviceId());
        try {
            otps.redeem(redeem.serviceId(), redeem.otp());
        } catch (OtpRejectedException e) {
            redeemLog.warn("member {}: one-time password refused ({})", redeem.serviceId(), e.reason());
            if (handshake != null) {
                handshake.redeemed().completeExceptionally(new BootstrapFailure("one-time password refused: "
                        + e.reason().name().toLowerCase(java.util.Locale.ROOT) + "; fabric keys not released"));
            }
            throw e;
        }
        if (handshake == null || handshake.incarnation() != redeem.incarnation()) {
            throw new SpawnerException(HttpStatus.CONFLICT, "stale-incarnation", "no bootstrap of incarnation " + redeem.incarnation()
                    + " of " + redeem.serviceId() + " is going on; fabric keys not released");
        }
        URI managementUrl = httpUrl(redeem.managementUrl());
        SealedKeys sealed = seal(redeem.publicKey(), redeem.serviceId());
        redeemLog.info("member {} incarnation {}: one-time password redeemed; fabric keys released sealed to its key; management port {}",
                redeem.serviceId(), redeem.incarnation(), managementUrl);
        step(redeem.serviceId(), redeem.incarnation(), InstanceState.BOOTSTRAPPING,
                "one-time password redeemed; fabric keys released sealed to the member's key");
        handshake.redeemed().complete(new Reached(managementUrl, redeem.bootstrapKey()));
        return new BootstrapWire.Released(sealed.encode(), keys.keyId(), registry.baseUrl().toString());
    }

    /** The member ended while its handshake was going on: the bootstrap fails with how it ended. */
    public void memberEnded(String serviceId, long incarnation, LaunchOutcome outcome) {
        Handshake handshake = handshakes.get(serviceId);
        if (handshake != null && handshake.incarnation() == incarnation) {
            String meaning = outcome instanceof LaunchOutcome.Exited(int code)
                    ? BootstrapExit.of(code).map(e -> " (" + e.meaning() + ")").orElse("") : "";
            handshake.redeemed().completeExceptionally(new BootstrapFailure("member " + outcome.describe() + meaning
                    + " during its bootstrap"));
        }
    }

    /** Whether a handshake of this incarnation is still going on. */
    public boolean inProgress(String serviceId, long incarnation) {
        Handshake handshake = handshakes.get(serviceId);
        return handshake != null && handshake.incarnation() == incarnation;
    }

    /**
     * Steps 3 to 5 for a launched member: wait for the password to be redeemed (modes 1, 2) or dial
     * the member (mode 3), verify it over its management port with a signed request, configure its
     * role, and wait until it registers RUNNING; all before {@code deadline}.
     *
     * @throws BootstrapFailure with the reason, when any step fails or the deadline passes
     */
    public ServiceInstance complete(LaunchedMember member, Connectivity connectivity, String role, Map<String, String> config,
                                    boolean restart, Instant deadline) {
        String id = member.serviceId();
        long incarnation = member.incarnation();
        Handshake handshake = Objects.requireNonNull(handshakes.get(id), "no handshake for " + id);
        try {
            Reached reached = connectivity == Connectivity.FIREWALL_FROM_SERVICE
                    ? dial(handshake, member, deadline)
                    : awaitRedeemed(handshake, deadline);
            verify(id, incarnation, reached, deadline);
            configure(id, incarnation, reached.managementUrl(), role, config, restart);
            return awaitRunning(member, deadline);
        } finally {
            handshakes.remove(id, handshake);
            otps.discard(id);
        }
    }

    private Reached awaitRedeemed(Handshake handshake, Instant deadline) {
        try {
            return handshake.redeemed().get(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new BootstrapFailure("the one-time password was not redeemed within " + text(properties.bootstrapTimeout())
                    + " (is the spawner at " + "its advertised URL reachable from the member?)");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof BootstrapFailure failure ? failure : new BootstrapFailure(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BootstrapFailure("bootstrap interrupted");
        }
    }

    /**
     * Mode 3 (firewall from the service): the member cannot dial out, so the spawner dials it once
     * it runs. Whoever answers on the member's port must first prove it knows the one-time password
     * (an HMAC over the spawner's challenge); only then does the spawner prove itself with the
     * password and hand over the keys, sealed to the key the proof covers. Another process that
     * took the port gets nothing secret and fails the bootstrap. After the deadline the member is
     * given up (and killed by the caller).
     */
    private Reached dial(Handshake handshake, LaunchedMember member, Instant deadline) {
        String id = handshake.serviceId();
        String lastFailure = "the member's management port is not known yet";
        while (Instant.now().isBefore(deadline)) {
            if (handshake.redeemed().isCompletedExceptionally()) {
                awaitRedeemed(handshake, deadline);
            }
            var url = member.managementUrl();
            if (url.isPresent()) {
                try {
                    String challenge = BootstrapProofs.challenge();
                    BootstrapWire.Hello hello = members.get()
                            .uri(url.get().resolve("/bootstrap/v1/hello?challenge=" + challenge))
                            .retrieve().body(BootstrapWire.Hello.class);
                    if (hello == null || !id.equals(hello.serviceId()) || hello.incarnation() != handshake.incarnation()) {
                        throw new BootstrapFailure("the member at " + url.get() + " is not incarnation " + handshake.incarnation()
                                + " of " + id + " (" + hello + ")");
                    }
                    if (!BootstrapProofs.helloProven(handshake.otp(), hello, challenge)) {
                        dialLog.warn("member {} incarnation {}: the process answering at {} did not prove it knows the one-time "
                                + "password; nothing secret sent", id, handshake.incarnation(), url.get());
                        throw new BootstrapFailure("mode 3: the process answering at " + url.get() + " did not prove it knows "
                                + "the member's one-time password (another process on the member's port?); nothing secret was sent");
                    }
                    otps.redeem(id, handshake.otp().reveal());
                    SealedKeys sealed = seal(hello.publicKey(), id);
                    members.post().uri(url.get().resolve("/bootstrap/v1/keys"))
                            .body(new BootstrapWire.Offer(handshake.otp().reveal(), sealed.encode(), keys.keyId(),
                                    registry.baseUrl().toString()))
                            .retrieve().toBodilessEntity();
                    dialLog.info("member {} incarnation {}: dialed at {}; fabric keys delivered sealed to its key", id,
                            handshake.incarnation(), url.get());
                    step(id, handshake.incarnation(), InstanceState.BOOTSTRAPPING,
                            "mode 3: the spawner dialed the member; fabric keys delivered sealed to its key");
                    return new Reached(url.get(), hello.bootstrapKey());
                } catch (ResourceAccessException e) {
                    lastFailure = "cannot connect to " + url.get() + " (" + e.getMostSpecificCause().getMessage() + ")";
                } catch (RestClientResponseException e) {
                    throw new BootstrapFailure("the member refused the spawner's key offer: HTTP " + e.getStatusCode().value()
                            + " " + e.getResponseBodyAsString());
                } catch (OtpRejectedException e) {
                    throw new BootstrapFailure("the one-time password could not be used: " + e.getMessage());
                }
            }
            sleep(Duration.ofMillis(200));
        }
        throw new BootstrapFailure("mode 3: the spawner could not reach the member within " + text(properties.bootstrapTimeout())
                + ": " + lastFailure);
    }

    /**
     * Step 4a: the member proves it is the process that redeemed the password (or answered the
     * hello): it signs the spawner's challenge with the bootstrap key it announced then, and names
     * the fabric key id it installed. An answer copied or echoed by another process fails here.
     * The member installs its keys when the redeem answer reaches it, a moment after the spawner
     * sent it: until then it answers 401, so that is retried until the deadline.
     */
    private void verify(String id, long incarnation, Reached reached, Instant deadline) {
        URI managementUrl = reached.managementUrl();
        String challenge = BootstrapProofs.challenge();
        BootstrapWire.Status status;
        while (true) {
            try {
                status = members.get().uri(managementUrl.resolve("/management/v1/status?challenge=" + challenge))
                        .retrieve().body(BootstrapWire.Status.class);
                break;
            } catch (RestClientResponseException e) {
                if (e.getStatusCode().value() != 401 || !Instant.now().isBefore(deadline)) {
                    throw new BootstrapFailure("setup check failed: the member's management port answered HTTP "
                            + e.getStatusCode().value() + " to a signed request");
                }
            } catch (ResourceAccessException e) {
                throw new BootstrapFailure("setup check failed: cannot reach the member's management port at " + managementUrl);
            }
            sleep(Duration.ofMillis(50));
        }
        if (status == null || !id.equals(status.id()) || status.incarnation() != incarnation || !keys.keyId().equals(status.keyId())) {
            throw new BootstrapFailure("setup check failed: " + managementUrl + " answered " + status);
        }
        if (!BootstrapProofs.statusProven(reached.bootstrapKey(), status, challenge)) {
            verifyLog.warn("member {} incarnation {}: the answer at {} is not signed with the member's bootstrap key", id, incarnation,
                    managementUrl);
            throw new BootstrapFailure("setup check failed: the answer at " + managementUrl + " is not signed with the bootstrap "
                    + "key member " + id + " announced (another process on the member's port?)");
        }
        verifyLog.info("member {} incarnation {}: setup verified over its management port {}", id, incarnation, managementUrl);
        step(id, incarnation, InstanceState.BOOTSTRAPPING, "setup verified over the management port (signed request)");
    }

    /** Step 4b: the member is told its role; it recovers its state if restarted, starts the role and registers. */
    private void configure(String id, long incarnation, URI managementUrl, String role, Map<String, String> config, boolean restart) {
        step(id, incarnation, InstanceState.BOOTSTRAPPING, "configuring for role " + role + (restart ? " (restart: recover the old state)" : ""));
        try {
            members.put().uri(managementUrl.resolve("/management/v1/role"))
                    .body(new BootstrapWire.Configure(role, config, restart)).retrieve().toBodilessEntity();
        } catch (RestClientResponseException e) {
            throw new BootstrapFailure("configuring role " + role + " failed: HTTP " + e.getStatusCode().value() + ": "
                    + problemDetail(e));
        } catch (ResourceAccessException e) {
            throw new BootstrapFailure("configuring role " + role + " failed: cannot reach " + managementUrl);
        }
        configureLog.info("member {} incarnation {}: configured for role {}", id, incarnation, role);
    }

    /** Step 5: the member registers RUNNING itself, with its endpoints. */
    private ServiceInstance awaitRunning(LaunchedMember member, Instant deadline) {
        String id = member.serviceId();
        long incarnation = member.incarnation();
        while (true) {
            if (member.outcome().isDone()) {
                throw new BootstrapFailure("the member " + member.outcome().join().describe() + " before it was RUNNING");
            }
            ServiceInstance instance = registry.get(id);
            if (instance.incarnation() != incarnation) {
                throw new BootstrapFailure("superseded by incarnation " + instance.incarnation());
            }
            if (instance.state() == InstanceState.RUNNING) {
                runningLog.info("member {} incarnation {}: RUNNING at {}", id, incarnation, instance.endpoints());
                return instance;
            }
            if (instance.state() != InstanceState.BOOTSTRAPPING && instance.state() != InstanceState.PENDING) {
                throw new BootstrapFailure("the member went " + instance.state() + ": " + instance.stateReason());
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new BootstrapFailure("configured, but not RUNNING within " + text(properties.bootstrapTimeout()));
            }
            sleep(Duration.ofMillis(100));
        }
    }

    /** The {@code detail} of a problem+json answer, else its body. */
    private static String problemDetail(RestClientResponseException e) {
        try {
            org.springframework.http.ProblemDetail problem = e.getResponseBodyAs(org.springframework.http.ProblemDetail.class);
            if (problem != null && problem.getDetail() != null) {
                return problem.getDetail();
            }
        } catch (RuntimeException notAProblem) {
            // fall through to the raw body
        }
        return e.getResponseBodyAsString();
    }

    /** Records a bootstrap step in the member's history; a registry hiccup must not fail the bootstrap. */
    private void step(String id, long incarnation, InstanceState state, String reason) {
        try {
            registry.changeState(id, incarnation, state, reason, null);
        } catch (RegistryException e) {
            LoggerFactory.getLogger(Bootstrapper.class).warn("member {}: could not record the step '{}': {}", id, reason, e.getMessage());
        }
    }

    private SealedKeys seal(String publicKeyBase64, String serviceId) {
        try {
            return KeySealing.seal(keys, KeySealing.publicKeyFromSpki(Base64.getDecoder().decode(publicKeyBase64)), serviceId);
        } catch (IllegalArgumentException | SealingException e) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-public-key",
                    "the member's public key is not a base64 X25519 key: " + e.getMessage());
        }
    }

    private static URI httpUrl(String url) {
        try {
            URI uri = URI.create(url);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (IllegalArgumentException | NullPointerException ignored) {
            // answered below
        }
        throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-management-url", "managementUrl '" + url
                + "' is not an http(s) URL with a host");
    }

    /** 60s, 1500ms: as the settings are written, not ISO-8601. */
    public static String text(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }

    private static Duration remaining(Instant deadline) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.isNegative() ? Duration.ZERO : left;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BootstrapFailure("bootstrap interrupted");
        }
    }
}
