package dev.fabric.spawner.bootstrap;

import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.contract.Durations;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.otp.OtpRejectedException;
import dev.fabric.core.problem.Problem;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.sealing.SealedKeys;
import dev.fabric.core.sealing.SealingException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.reach.ReverseChannel;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.splice.BootstrapIdentity;
import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.Side;
import dev.fabric.core.splice.SocketPipe;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.SplicedConnection;
import dev.fabric.core.splice.Splicer;
import dev.fabric.spawner.reach.SpliceOrRelay;
import dev.fabric.spawner.spawn.ManagedMember;
import dev.fabric.spawner.spawn.Members;
import dev.fabric.spawner.spawn.SpawnerProperties;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.context.annotation.Lazy;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import org.springframework.web.client.RestClientResponseException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The spawner's side of the bootstrap handshake (docs/spawner.md, "The bootstrap protocol"). Each step logs under its own logger ({@code fabric.bootstrap.<step>}) and is
 * recorded in the member's state history, so an operator sees where a bootstrap stopped.
 */
@Component
@Lazy // inside a member, its keys and registry exist only once the member holds them (MemberSpawningConfiguration)
public class Bootstrapper {

    private static final Logger otpLog = LoggerFactory.getLogger("fabric.bootstrap.otp");
    private static final Logger redeemLog = LoggerFactory.getLogger("fabric.bootstrap.redeem");
    private static final Logger dialLog = LoggerFactory.getLogger("fabric.bootstrap.dial");
    private static final Logger verifyLog = LoggerFactory.getLogger("fabric.bootstrap.verify");
    private static final Logger configureLog = LoggerFactory.getLogger("fabric.bootstrap.configure");
    private static final Logger spliceLog = LoggerFactory.getLogger("fabric.bootstrap.splice");
    private static final Logger runningLog = LoggerFactory.getLogger("fabric.bootstrap.running");

    private final OneTimePasswords otps;
    private final FabricKeys keys;
    private final RegistryClient registry;
    private final RestClient memberClient;
    private final Members members;
    private final SpawnerProperties properties;
    private final Map<InetSocketAddress, RestClient> throughBridges = new ConcurrentHashMap<>();
    /** Clients with short timeouts for {@link #announceRestart}, by the bridge they go through ("" for none). */
    private final Map<String, RestClient> announcers = new ConcurrentHashMap<>();

    public Bootstrapper(OneTimePasswords otps, FabricKeys keys, RegistryClient registry, RestClient memberClient, Members members,
                        SpawnerProperties properties) {
        this.otps = otps;
        this.keys = keys;
        this.registry = registry;
        this.memberClient = memberClient;
        this.members = members;
        this.properties = properties;
    }

    /** Step 1: a fresh one-time password for this incarnation, recorded as a step of its history. */
    public OneTimePassword open(ManagedMember member, long incarnation) {
        String id = member.id();
        OneTimePassword otp = otps.issue(id, properties.otpTtl());
        member.handshake(new Handshake(incarnation, otp));
        otpLog.info("member {} incarnation {}: one-time password issued, valid for {}", id, incarnation, Durations.text(properties.otpTtl()));
        step(id, incarnation, InstanceState.PENDING, "one-time password issued (valid for " + Durations.text(properties.otpTtl()) + ")");
        return otp;
    }

    /** Forgets the incarnation's handshake and its password (a failed launch, a stop). */
    public void close(ManagedMember member, long incarnation) {
        member.handshake(incarnation).ifPresent(handshake -> end(member, handshake, "bootstrap abandoned"));
    }

    /** The member ended while its handshake was going on: the bootstrap fails with how it ended. */
    public void memberEnded(ManagedMember member, long incarnation, LaunchOutcome outcome) {
        member.handshake(incarnation).ifPresent(handshake -> {
            String meaning = outcome instanceof LaunchOutcome.Exited(int code)
                    ? BootstrapExit.of(code).map(e -> " (" + e.meaning() + ")").orElse("") : "";
            handshake.fail("member " + outcome.describe() + meaning + " during its bootstrap");
        });
    }

    private void end(ManagedMember member, Handshake handshake, String why) {
        if (member.endHandshake(handshake)) {
            otps.discard(member.id());
        }
        handshake.fail(why);
    }

    /**
     * Step 3, modes 1 and 2: the member presents its password and ephemeral key; the keys are
     * released sealed to that key. The request is checked before the password is touched, so a
     * malformed one does not use it up. A refused password fails the bootstrap: the member will not
     * get the keys, and the caller gets {@code 403 otp-refused}, whatever the cause. A retry of the
     * redeem that won (the member did not see the answer) gets the same answer again.
     */
    public BootstrapWire.Released redeem(BootstrapWire.Redeem redeem) {
        String id = redeem.serviceId();
        if (id == null || id.isBlank() || redeem.otp() == null) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request",
                    "a redeem carries serviceId, incarnation, otp, publicKey and managementUrl");
        }
        URI managementUrl = httpUrl(redeem.managementUrl());
        PublicKey memberKey = publicKey(redeem.publicKey());
        Optional<ManagedMember> owner = members.find(id);
        // The member's one lock: a retry and a racing redeem wait for the redeem going on.
        synchronized (owner.isPresent() ? owner.get() : new Object()) {
            Handshake handshake = owner.flatMap(ManagedMember::handshake).orElse(null);
            if (handshake != null) {
                Optional<BootstrapWire.Released> again = handshake.repeated(redeem);
                if (again.isPresent()) {
                    redeemLog.info("member {} incarnation {}: redeem repeated; the same sealed keys answered again", id, redeem.incarnation());
                    return again.get();
                }
            }
            try {
                otps.redeem(id, redeem.otp());
            } catch (OtpRejectedException e) {
                String cause = e.reason().name().toLowerCase(java.util.Locale.ROOT);
                redeemLog.warn("member {}: one-time password refused ({})", id, cause);
                if (handshake != null) {
                    handshake.fail("one-time password refused: " + cause + "; fabric keys not released");
                }
                throw SpawnerException.otpRefused();
            }
            if (handshake == null || handshake.incarnation() != redeem.incarnation()) {
                throw new SpawnerException(HttpStatus.CONFLICT, "stale-incarnation", "no bootstrap of incarnation " + redeem.incarnation()
                        + " of " + id + " is going on; fabric keys not released");
            }
            BootstrapWire.Released released = new BootstrapWire.Released(seal(memberKey, id).encode(), keys.keyId(),
                    registry.baseUrl().toString());
            handshake.answered(redeem.incarnation(), redeem.publicKey(), released);
            redeemLog.info("member {} incarnation {}: one-time password redeemed; fabric keys released sealed to its key; management port {}",
                    id, redeem.incarnation(), managementUrl);
            step(id, redeem.incarnation(), InstanceState.BOOTSTRAPPING,
                    "one-time password redeemed; fabric keys released sealed to the member's key");
            handshake.redeemed().complete(new Handshake.Reached(managementUrl, redeem.bootstrapKey()));
            return released;
        }
    }

    /**
     * Steps 3 to 5 for a launched member: wait for the password to be redeemed (modes 1, 2) or dial
     * the member (mode 3), verify it over its management port with a signed request, configure its
     * role, and wait until it registers RUNNING; all before {@code deadline}.
     *
     * @throws BootstrapFailure with the reason, when any step fails or the deadline passes
     */
    public ServiceInstance complete(ManagedMember owner, LaunchedMember member, Connectivity connectivity, String role,
                                    Map<String, String> config, boolean restart, Instant deadline) {
        String id = member.serviceId();
        long incarnation = member.incarnation();
        Handshake handshake = owner.handshake(incarnation)
                .orElseThrow(() -> new BootstrapFailure("the bootstrap of incarnation " + incarnation + " was abandoned"));
        try {
            if (connectivity == Connectivity.SPLICED) {
                return completeSpliced(member, handshake, role, config, restart, deadline);
            }
            Handshake.Reached reached = connectivity == Connectivity.FIREWALL_FROM_SERVICE
                    ? dial(id, handshake, member, deadline)
                    : awaitRedeemed(handshake, deadline);
            // A member in mode 2 cannot be dialed: it opened its channel to its bridge when its keys arrived, and
            // the setup check and its configuration take that path. Members in modes 1 and 3 are dialed directly.
            RestClient path = connectivity == Connectivity.FIREWALL_TO_SERVICE ? pathTo(config.get(MemberEnvironment.VIA_CONFIG))
                    : memberClient;
            verify(id, incarnation, reached, path, deadline, false);
            configure(id, incarnation, reached.managementUrl(), path, role, config, restart, false);
            return awaitRunning(member, deadline);
        } finally {
            end(owner, handshake, "bootstrap over");
        }
    }

    /**
     * Mode 4, before the launch: a rendezvous at the registry for the member's splice, the member named
     * as its peer with the key its one-time password derives ({@link BootstrapIdentity}): the registry
     * lets nobody else join as the member, and never sees the password.
     *
     * @return the rendezvous id, for the member's environment ({@link MemberEnvironment#RENDEZVOUS})
     */
    public String openRendezvous(ManagedMember member, long incarnation) {
        Handshake handshake = member.handshake(incarnation)
                .orElseThrow(() -> new BootstrapFailure("the bootstrap of incarnation " + incarnation + " was abandoned"));
        FabricKeys identity = BootstrapIdentity.of(handshake.otp(), member.id());
        // Longer than the bootstrap may take (it was opened before the launch, the deadline counts from the launch), so
        // a member that never comes is told apart from an expired rendezvous; within what a registry grants by default (5 min).
        int ttl = (int) Math.clamp(properties.bootstrapTimeout().toSeconds() + 30, 10, 300);
        RendezvousWire.Opened opened = registry.openRendezvous(new RendezvousWire.Open(member.id(),
                Base64.getEncoder().encodeToString(identity.publicKey().getEncoded()), ttl));
        handshake.rendezvous(opened.id());
        spliceLog.info("member {} incarnation {}: rendezvous {} opened for its splice (expires {})", member.id(), incarnation,
                opened.id(), opened.expiresAt());
        step(member.id(), incarnation, InstanceState.PENDING, "mode 4: rendezvous " + opened.id() + " opened at the registry for the splice");
        return opened.id();
    }

    /**
     * Mode 4 (firewalls both ways): the spawner and the member meet at the rendezvous and splice one
     * TCP connection (docs/connectivity.md); over it the spawner runs step 3 as in mode 3 (hello, then the
     * sealed keys), step 4a (setup check) and 4b (configure), as ordinary signed HTTP: a loopback port
     * forwarded to the spliced connection is its HTTP client's proxy, and the member joins the
     * connection to its own web server. The member that never joins fails the bootstrap at its
     * deadline (and is killed, as in mode 3).
     */
    private ServiceInstance completeSpliced(LaunchedMember member, Handshake handshake, String role, Map<String, String> config,
                                            boolean restart, Instant deadline) {
        String id = member.serviceId();
        long incarnation = member.incarnation();
        String rendezvous = handshake.rendezvous();
        if (rendezvous == null) {
            throw new BootstrapFailure("mode 4: no rendezvous was opened for this incarnation");
        }
        Duration patience = remaining(deadline);
        if (patience.isZero()) {
            throw new BootstrapFailure("mode 4: no time left to splice");
        }
        java.net.Socket connection;
        String over = "spliced connection";
        String via = config.get(MemberEnvironment.VIA_CONFIG);
        URI bridge;
        try {
            bridge = via == null || via.isBlank() ? null : URI.create(via);
        } catch (IllegalArgumentException e) {
            throw new BootstrapFailure("mode 4: the bridge (via) " + via + " is no URL: " + e.getMessage());
        }
        try {
            SpliceOrRelay.Connection connected = SpliceOrRelay.connect(() -> spliceWhileAlive(member, new Splicer(registry.baseUrl(),
                    new RequestSigner(keys, Clock.systemUTC()), SpliceSchedule.DEFAULT.withPatience(patience), Clock.systemUTC()), rendezvous),
                    bridge, rendezvous, keys, () -> remaining(deadline));
            connection = connected.socket();
            if (connected.relayed()) {
                SpliceException failure = connected.spliceFailure();
                spliceLog.warn("member {} incarnation {}: splice failed ({}): {}", id, incarnation, failure.reason(), failure.getMessage());
                String how = "relayed through the bridge at " + via + ": the splice failed (no-connection: " + failure.getMessage() + ")";
                spliceLog.info("member {} incarnation {}: {}", id, incarnation, how);
                step(id, incarnation, InstanceState.BOOTSTRAPPING, "mode 4: " + how);
                over = "circuit through the bridge";
            } else {
                SplicedConnection spliced = connected.spliced();
                String how = "spliced " + spliced.local() + " <-> " + spliced.remote() + " (dial " + spliced.attempts() + ", "
                        + spliced.dialing().toMillis() + " ms)";
                spliceLog.info("member {} incarnation {}: {}", id, incarnation, how);
                step(id, incarnation, InstanceState.BOOTSTRAPPING, "mode 4: " + how);
            }
        } catch (SpliceException e) {
            spliceLog.warn("member {} incarnation {}: splice failed ({}): {}", id, incarnation, e.reason(), e.getMessage());
            throw new BootstrapFailure(switch (e.reason()) {
                case PEER_NEVER_ARRIVED -> "mode 4: the member did not join rendezvous " + rendezvous + " within "
                        + Durations.text(properties.bootstrapTimeout()) + " (peer-never-arrived)";
                case NO_CONNECTION -> "mode 4: no spliced connection opened (no-connection), and no bridge (via) to relay "
                        + "through: " + e.getMessage();
                case REFUSED -> "mode 4: " + e.getMessage();
                case BROKER_UNREACHABLE -> "mode 4: the registry could not broker the splice: " + e.getMessage();
            });
        } catch (SpliceOrRelay.RelayFailedException e) {
            spliceLog.warn("member {} incarnation {}: splice failed ({}): {}", id, incarnation, e.splice().reason(), e.splice().getMessage());
            throw new BootstrapFailure("mode 4: no spliced connection opened (" + e.splice().getMessage() + "), and the relay through the "
                    + "bridge at " + via + " failed too: " + e.getMessage());
        }
        URI url = member.managementUrl().orElseThrow(() -> new BootstrapFailure("mode 4: the launcher did not say the member's "
                + "management URL, the target of the requests over the splice"));
        // What is done survives a drop: the password is used once, the keys delivered once, the setup checked once.
        KeyOffer offer = new KeyOffer();
        Handshake.Reached reached = null;
        boolean verified = false;
        int drops = 0;
        while (true) {
            try (SocketPipe.Forwarded forwarded = SocketPipe.forward(connection)) {
                RestClient path = FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(30), forwarded.proxy()).build();
                if (reached == null) {
                    reached = offerKeys(id, handshake, url, path, offer);
                    step(id, incarnation, InstanceState.BOOTSTRAPPING, "mode 4: fabric keys delivered over the " + over
                            + (offer.alreadyHeld ? " (the member already held them: they had arrived before the drop)" : "")
                            + ", sealed to the member's key");
                }
                if (!verified) {
                    verify(id, incarnation, reached, path, deadline, true);
                    verified = true;
                }
                configure(id, incarnation, reached.managementUrl(), path, role, config, restart, true);
                break;
            } catch (IOException e) {
                throw new BootstrapFailure("mode 4: cannot forward the spliced connection: " + e.getMessage());
            } catch (RestClientException | Dropped e) {
                // The connection dropped (a NAT that forgot it, a reset, a bridge that went): a circuit through the bridge replaces it.
                drops++;
                String at = reached == null ? "before the fabric keys were delivered" : !verified ? "during the setup check"
                        : "during the configuration";
                String cause = e instanceof Dropped dropped ? dropped.getMessage() : FabricRestClients.describeFailure(e);
                String dropped = "the " + over + " dropped " + at + " (" + cause + ")";
                spliceLog.warn("member {} incarnation {}: {}", id, incarnation, dropped);
                connection = resumeWhileAlive(member, bridge, rendezvous, drops, deadline, dropped);
                over = "circuit through the bridge";
                String how = "relayed through the bridge at " + via + ": " + dropped + "; the bootstrap goes on over circuit "
                        + SpliceOrRelay.followUp(rendezvous, drops);
                spliceLog.info("member {} incarnation {}: {}", id, incarnation, how);
                step(id, incarnation, InstanceState.BOOTSTRAPPING, "mode 4: " + how);
            }
        }
        return awaitRunning(member, deadline);
    }

    /**
     * The bootstrap's connection dropped: the spawner's half of the circuit through the bridge that
     * replaces it ({@link SpliceOrRelay#resume}), unless the member ends first (it could not open its own
     * half, say), no bridge is named, or the circuit does not open: then the bootstrap fails with why.
     */
    private Socket resumeWhileAlive(LaunchedMember member, URI bridge, String rendezvous, int drop, Instant deadline, String dropped) {
        if (bridge == null) {
            throw new BootstrapFailure("mode 4: " + dropped + ", and no bridge (via) to relay through");
        }
        CompletableFuture<Socket> circuit = whileAlive(member, "circuit-",
                () -> SpliceOrRelay.resume(bridge, rendezvous, drop, keys, remaining(deadline)));
        if (circuit == null) {
            throw new BootstrapFailure("mode 4: " + dropped + "; the member " + member.outcome().join().describe()
                    + " before the circuit through the bridge at " + bridge + " that replaces it opened");
        }
        try {
            return circuit.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SpliceOrRelay.NoRelayException none) {
                throw new BootstrapFailure("mode 4: " + dropped + ", and " + none.getMessage());
            }
            throw new BootstrapFailure("mode 4: " + dropped + ", and the relay through the bridge at " + bridge + " failed too: "
                    + e.getCause().getMessage());
        }
    }

    /** A call over a mode 4 bootstrap's connection that got no answer, and left nothing done: the connection is replaced. */
    private static final class Dropped extends RuntimeException {
        Dropped(String message) {
            super(message);
        }
    }

    /**
     * The spawner's key offer to one incarnation, across its attempts: the password is redeemed at
     * the first, and an attempt after one whose answer was lost accepts that the member already holds
     * the keys ({@code 409 keys-already-delivered}); step 4a proves it is the same member.
     */
    private static final class KeyOffer {
        boolean redeemed;
        boolean sent;
        boolean alreadyHeld;
    }

    /**
     * Splices as the initiator, unless the member ends first (it could not reach the registry, say):
     * then the splice is abandoned at once with how the member ended, rather than at the deadline.
     */
    private static SplicedConnection spliceWhileAlive(LaunchedMember member, Splicer splicer, String rendezvous) throws SpliceException {
        CompletableFuture<SplicedConnection> splice = whileAlive(member, "splice-", () -> splicer.splice(rendezvous, Side.INITIATOR));
        if (splice == null) {
            throw new BootstrapFailure("mode 4: the member " + member.outcome().join().describe() + " before it joined rendezvous "
                    + rendezvous);
        }
        try {
            return splice.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SpliceException failure) {
                throw failure;
            }
            throw e.getCause() instanceof RuntimeException runtime ? runtime : e;
        }
    }

    /**
     * Runs {@code work} on a virtual thread named after the member and waits until it is done or the
     * member's process ends, whichever comes first: its future once done (completed with its result or
     * its failure), or {@code null} when the member ended first (the work is then interrupted).
     */
    private static <T> CompletableFuture<T> whileAlive(LaunchedMember member, String threadPrefix, Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread worker = Thread.ofVirtual().name(threadPrefix + member.serviceId()).start(() -> {
            try {
                result.complete(work.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        try {
            CompletableFuture.anyOf(result, member.outcome()).join();
        } catch (CompletionException ignored) {
            // the work's failure, which the caller reads from its future
        }
        if (!result.isDone()) {
            worker.interrupt();
            return null;
        }
        return result;
    }

    private Handshake.Reached awaitRedeemed(Handshake handshake, Instant deadline) {
        try {
            return handshake.redeemed().get(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new BootstrapFailure("the one-time password was not redeemed within " + Durations.text(properties.bootstrapTimeout())
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
    private Handshake.Reached dial(String id, Handshake handshake, LaunchedMember member, Instant deadline) {
        String lastFailure = "the member's management port is not known yet";
        KeyOffer offer = new KeyOffer();
        while (Instant.now().isBefore(deadline)) {
            if (handshake.redeemed().isCompletedExceptionally()) {
                awaitRedeemed(handshake, deadline);
            }
            var url = member.managementUrl();
            if (url.isPresent()) {
                try {
                    Handshake.Reached reached = offerKeys(id, handshake, url.get(), memberClient, offer);
                    step(id, handshake.incarnation(), InstanceState.BOOTSTRAPPING,
                            "mode 3: the spawner dialed the member; fabric keys delivered sealed to its key");
                    return reached;
                } catch (ResourceAccessException e) {
                    lastFailure = "cannot connect to " + url.get() + " (" + e.getMostSpecificCause().getMessage() + ")";
                }
            }
            sleep(Duration.ofMillis(200));
        }
        throw new BootstrapFailure("mode 3: the spawner could not reach the member within " + Durations.text(properties.bootstrapTimeout())
                + ": " + lastFailure);
    }

    /**
     * Modes 3 and 4, the spawner's side of step 3: whoever answers at the member's URL over
     * {@code path} must first prove it knows the one-time password (an HMAC over the spawner's
     * challenge); only then does the spawner prove itself with the password and hand over the keys,
     * sealed to the key the proof covers.
     *
     * @throws ResourceAccessException when the member cannot be reached over {@code path}
     */
    private Handshake.Reached offerKeys(String id, Handshake handshake, URI url, RestClient path, KeyOffer offer) {
        try {
            String challenge = BootstrapProofs.challenge();
            BootstrapWire.Hello hello = path.get()
                    .uri(url.resolve("/bootstrap/v1/hello?challenge=" + challenge))
                    .retrieve().body(BootstrapWire.Hello.class);
            if (hello == null || !id.equals(hello.serviceId()) || hello.incarnation() != handshake.incarnation()) {
                throw new BootstrapFailure("the member at " + url + " is not incarnation " + handshake.incarnation()
                        + " of " + id + " (" + hello + ")");
            }
            if (!BootstrapProofs.helloProven(handshake.otp(), hello, challenge)) {
                dialLog.warn("member {} incarnation {}: the process answering at {} did not prove it knows the one-time "
                        + "password; nothing secret sent", id, handshake.incarnation(), url);
                throw new BootstrapFailure("the process answering at " + url + " did not prove it knows "
                        + "the member's one-time password (another process on the member's port?); nothing secret was sent");
            }
            if (!offer.redeemed) {
                otps.redeem(id, handshake.otp().reveal());
                offer.redeemed = true;
            }
            SealedKeys sealed = seal(publicKey(hello.publicKey()), id);
            boolean again = offer.sent;
            offer.sent = true;
            try {
                path.post().uri(url.resolve("/bootstrap/v1/keys"))
                        .body(new BootstrapWire.Offer(handshake.otp().reveal(), sealed.encode(), keys.keyId(),
                                registry.baseUrl().toString()))
                        .retrieve().toBodilessEntity();
            } catch (RestClientResponseException e) {
                if (!again || e.getStatusCode().value() != 409 || !"keys-already-delivered".equals(problem(e, id).reason())) {
                    throw e;
                }
                // The offer before reached the member; its answer was lost with the connection.
                offer.alreadyHeld = true;
                dialLog.info("member {} incarnation {}: it already holds the fabric keys offered before its connection dropped", id,
                        handshake.incarnation());
            }
            dialLog.info("member {} incarnation {}: reached at {}; fabric keys delivered sealed to its key", id,
                    handshake.incarnation(), url);
            return new Handshake.Reached(url, hello.bootstrapKey());
        } catch (RestClientResponseException e) {
            throw new BootstrapFailure("the member refused the spawner's key offer: " + problem(e, id).message());
        } catch (OtpRejectedException e) {
            throw new BootstrapFailure("the one-time password could not be used: " + e.getMessage());
        } catch (SpawnerException e) {
            throw new BootstrapFailure("the member's hello is unusable: " + e.getMessage());
        }
    }

    /**
     * Step 4a: the member proves it is the process that redeemed the password (or answered the
     * hello): it signs the spawner's challenge with the bootstrap key it announced then, and names
     * the fabric key id it installed. An answer copied or echoed by another process fails here.
     * The member installs its keys when the redeem answer reaches it, a moment after the spawner
     * sent it: until then it answers 401, so that is retried until the deadline.
     */
    private void verify(String id, long incarnation, Handshake.Reached reached, RestClient path, Instant deadline, boolean resumable) {
        URI managementUrl = reached.managementUrl();
        String challenge = BootstrapProofs.challenge();
        BootstrapWire.Status status;
        while (true) {
            try {
                status = path.get().uri(managementUrl.resolve("/management/v1/status?challenge=" + challenge))
                        .retrieve().body(BootstrapWire.Status.class);
                break;
            } catch (RestClientResponseException e) {
                // Through a bridge, the member's channel may not be open yet: the bridge has no route to it for that moment.
                boolean notYet = e.getStatusCode().value() == 401 || (path != memberClient && e.getStatusCode().value() == 502);
                if (!notYet || !Instant.now().isBefore(deadline)) {
                    throw new BootstrapFailure("setup check failed: the member's management port answered HTTP "
                            + e.getStatusCode().value() + " to a signed request");
                }
            } catch (ResourceAccessException e) {
                if (resumable) {
                    throw new Dropped(FabricRestClients.describeFailure(e));
                }
                throw new BootstrapFailure("setup check failed: cannot reach the member's management port at " + managementUrl
                        + (path == memberClient ? "" : " over its spliced connection or bridge: " + e.getMostSpecificCause().getMessage()));
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

    /**
     * Step 4b: the member is told its role; it recovers its state if restarted, starts the role and
     * registers RUNNING (step 5) before it answers. A call that breaks without an answer (the member
     * killed, a connection cut) is a failure only if the member did not reach RUNNING: the registry
     * is asked, and a member it shows RUNNING at this incarnation was configured, its answer lost.
     * Its end, if it died, is then the death of a RUNNING member, which its spawner restarts.
     */
    private void configure(String id, long incarnation, URI managementUrl, RestClient path, String role, Map<String, String> config,
                           boolean restart, boolean resumable) {
        step(id, incarnation, InstanceState.BOOTSTRAPPING, "configuring for role " + role + (restart ? " (restart: recover the old state)" : ""));
        try {
            path.put().uri(managementUrl.resolve("/management/v1/role"))
                    .body(new BootstrapWire.Configure(role, config, restart)).retrieve().toBodilessEntity();
        } catch (RestClientResponseException e) {
            throw new BootstrapFailure("configuring role " + role + " failed: " + problem(e, id).message());
        } catch (ResourceAccessException e) {
            String cause = FabricRestClients.describeFailure(e);
            Optional<ServiceInstance> started = startedAt(id, incarnation);
            if (started.isEmpty()) {
                if (resumable) {
                    throw new Dropped(cause);
                }
                throw new BootstrapFailure("configuring role " + role + " failed: cannot reach " + managementUrl + " (" + cause + ")");
            }
            configureLog.warn("member {} incarnation {}: its answer to the configuration for role {} was lost ({}), but it had "
                    + "registered RUNNING: configured (now {})", id, incarnation, role, cause, started.get().state());
            return;
        } catch (RestClientException e) {
            // The answer broke off while it was read: the member may have registered RUNNING before it went, as above.
            if (startedAt(id, incarnation).isEmpty()) {
                if (resumable) {
                    throw new Dropped("no whole answer: " + FabricRestClients.describeFailure(e));
                }
                throw new BootstrapFailure("configuring role " + role + " failed: no whole answer from " + managementUrl + " ("
                        + FabricRestClients.describeFailure(e) + ")");
            }
            configureLog.warn("member {} incarnation {}: its answer to the configuration for role {} broke off, but it had "
                    + "registered RUNNING: configured", id, incarnation, role);
            return;
        }
        configureLog.info("member {} incarnation {}: configured for role {}", id, incarnation, role);
    }

    /**
     * Whether the registry saw this incarnation RUNNING: it shows it RUNNING, or SUSPECT or DEAD,
     * which only a RUNNING member becomes. Such a member counts as started, whatever happens to it
     * next: its end is an ordinary death (restarted under its id), never a failed bootstrap.
     */
    public static boolean reachedRunning(ServiceInstance instance, long incarnation) {
        return instance.incarnation() == incarnation && switch (instance.state()) {
            case RUNNING, SUSPECT, DEAD -> true;
            default -> false;
        };
    }

    /** The registry's record of the incarnation if it reached RUNNING; empty when it did not, or the registry cannot say. */
    private Optional<ServiceInstance> startedAt(String id, long incarnation) {
        try {
            return registry.find(id).filter(instance -> reachedRunning(instance, incarnation));
        } catch (RegistryCallException e) {
            configureLog.warn("member {} incarnation {}: cannot ask the registry whether it reached RUNNING: {}", id, incarnation,
                    e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Step 5: the member registers RUNNING itself, with its endpoints. The registry is asked before
     * the member's end is taken for a failure: a member that registered RUNNING and then ended
     * (killed right after it answered its configuration) started, and its end is its spawner's to
     * carry out as that of a RUNNING member ({@code SpawnService} hands it over once this returns).
     */
    private ServiceInstance awaitRunning(LaunchedMember member, Instant deadline) {
        String id = member.serviceId();
        long incarnation = member.incarnation();
        while (true) {
            // Read before the registry: a member that ended and is not RUNNING there never registered; one that is, started.
            boolean ended = member.outcome().isDone();
            ServiceInstance instance = registry.get(id);
            if (instance.incarnation() != incarnation) {
                throw new BootstrapFailure("superseded by incarnation " + instance.incarnation());
            }
            if (reachedRunning(instance, incarnation)) {
                runningLog.info("member {} incarnation {}: RUNNING at {}{}", id, incarnation, instance.endpoints(),
                        instance.state() == InstanceState.RUNNING ? "" : " (" + instance.state() + " since)");
                return instance;
            }
            if (ended) {
                throw new BootstrapFailure("the member " + member.outcome().join().describe() + " before it was RUNNING");
            }
            if (instance.state() != InstanceState.BOOTSTRAPPING && instance.state() != InstanceState.PENDING) {
                throw new BootstrapFailure("the member went " + instance.state() + ": " + instance.stateReason());
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new BootstrapFailure("configured, but not RUNNING within " + Durations.text(properties.bootstrapTimeout()));
            }
            sleep(Duration.ofMillis(100));
        }
    }

    /**
     * Tells a running member that it is about to be stopped to be restarted under its id
     * ({@code POST /management/v1/restarting}), so that it leaves its own members running for its next
     * incarnation. Best effort: a member that cannot be told (gone, hung, reached only over a splice)
     * stops as any stopped member does; answers whether it was told.
     */
    public boolean announceRestart(ServiceInstance member, String via) {
        String management = member.endpoints().get("management");
        if (management == null || member.connectivity() == Connectivity.SPLICED) {
            return false;
        }
        // Briefly: a member that does not answer at once is no reason to hold its restart up.
        RestClient brief = announcers.computeIfAbsent(via == null ? "" : via.strip(), bridge -> FabricRestClients.signed(keys,
                Duration.ofSeconds(2), Duration.ofSeconds(5), bridge.isEmpty() ? null : ReverseChannel.relayAddress(URI.create(bridge))).build());
        try {
            brief.post().uri(URI.create(management).resolve("/management/v1/restarting")).retrieve().toBodilessEntity();
            return true;
        } catch (RestClientException e) {
            configureLog.info("member {} incarnation {}: could not tell it of its restart ({}); it stops as on a stop",
                    member.id(), member.incarnation(), FabricRestClients.describeFailure(e));
            return false;
        }
    }

    /** Signed calls to a member: straight to its port, or through the relay port of the bridge {@code via} names. */
    private RestClient pathTo(String via) {
        if (via == null || via.isBlank()) {
            return memberClient;
        }
        return throughBridges.computeIfAbsent(ReverseChannel.relayAddress(URI.create(via)),
                relay -> FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(30), relay).build());
    }

    /** A member's error answer, decoded; its detail is what goes into the member's state reason. */
    private static Problem problem(RestClientResponseException e, String id) {
        return Problem.decode(e, "member " + id);
    }

    /** Records a bootstrap step in the member's history; a registry hiccup must not fail the bootstrap. */
    private void step(String id, long incarnation, InstanceState state, String reason) {
        try {
            registry.changeState(id, incarnation, state, reason, null);
        } catch (RegistryCallException e) {
            LoggerFactory.getLogger(Bootstrapper.class).warn("member {}: could not record the step '{}': {}", id, reason, e.getMessage());
        }
    }

    /** The member's ephemeral X25519 key, or {@code 400 invalid-public-key}. */
    private static PublicKey publicKey(String publicKeyBase64) {
        try {
            return KeySealing.publicKeyFromSpki(Base64.getDecoder().decode(publicKeyBase64));
        } catch (IllegalArgumentException | NullPointerException | SealingException e) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-public-key",
                    "the member's public key is not a base64 X25519 key: " + e.getMessage());
        }
    }

    private SealedKeys seal(PublicKey memberKey, String serviceId) {
        try {
            return KeySealing.seal(keys, memberKey, serviceId);
        } catch (SealingException e) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-public-key", "the fabric keys cannot be sealed to the member's key: "
                    + e.getMessage());
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
