package dev.fabric.spawner.spawn;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ReportRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.spring.FabricSecurityProperties;
import dev.fabric.spawner.bootstrap.BootstrapFailure;
import dev.fabric.spawner.bootstrap.Bootstrapper;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import dev.fabric.spawner.launch.MemberLog;
import dev.fabric.spawner.web.SpawnerException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Lazy;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Spawns, restarts and stops this node's members, and carries out what happens when one ends
 * ({@link Ending} decides: restarted under its id, FAILED, LOST, STOPPED). Each member's life is
 * held by its {@link ManagedMember} and changed under its lock. The node is the root spawner or a
 * member that spawns ({@link MemberSpawningConfiguration}); its members are those it
 * {@linkplain Supervision supervises}: those it spawned, and those it adopted.
 *
 * <p>Made on first use ({@code @Lazy}): inside a member its parts exist only once the member holds
 * its keys, which {@link SpawnGate} waits for.
 */
@Service
@Lazy
public class SpawnService {

    private static final Logger log = LoggerFactory.getLogger(SpawnService.class);
    private static final Logger launchLog = LoggerFactory.getLogger("fabric.bootstrap.launch");
    /** Set by a member in its registration: whether a lost member of its role is replaced by a fresh one. */
    static final String REPLACE_WHEN_LOST = "role.replace-when-lost";

    private final Launcher launcher;
    private final Bootstrapper bootstrapper;
    private final Members members;
    private final RegistryClient registry;
    private final SpawnerProperties properties;
    private final SpawnerIdentity identity;
    private final SecureRandom random = new SecureRandom();
    private final MeterRegistry meters;
    /** The signature policy its members inherit; null: theirs stays the default. */
    private final FabricSecurityProperties security;
    private final StartingSlots starting;

    public SpawnService(Launcher launcher, Bootstrapper bootstrapper, Members members, RegistryClient registry,
                        SpawnerProperties properties, SpawnerIdentity identity, MeterRegistry meters,
                        FabricSecurityProperties security) {
        this.launcher = launcher;
        this.bootstrapper = bootstrapper;
        this.members = members;
        this.registry = registry;
        this.properties = properties;
        this.identity = identity;
        this.meters = meters;
        this.starting = new StartingSlots(properties.process().maxStarting());
        this.security = security;
    }

    /**
     * {@code fabric.spawner.bootstraps{outcome=running|failed|lost, restart}}: how long from launch to
     * RUNNING or to the failure; {@code fabric.spawner.ends{outcome}}: how members ended.
     */
    private void recordBootstrap(String outcome, boolean restart, long startedNanos) {
        Timer.builder("fabric.spawner.bootstraps").description("Bootstraps from launch to RUNNING or failure")
                .tag("outcome", outcome).tag("restart", Boolean.toString(restart))
                .register(meters).record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }

    /** Starts a new member of a role (steps 1 and 2 here; steps 3 to 5 go on in the background). */
    public ServiceInstance spawn(SpawnRequest request) {
        MemberPlan plan = MemberPlan.of(request, properties.roles(), launcher.hosts());
        ManagedMember member = members.of(request.type() + "-" + HexFormat.of().formatHex(bytes(4)));
        synchronized (member) {
            return start(member, 1, plan, "spawned by " + identity.id(), Optional.empty());
        }
    }

    SpawnerIdentity identity() {
        return identity;
    }

    RegistryClient registry() {
        return registry;
    }

    Launcher launcher() {
        return launcher;
    }

    /**
     * Starts a new incarnation under the member's id, its old id kept. A live old incarnation is stopped
     * first, and confirmed gone ({@link #restart(String, long, String, boolean, boolean)}).
     */
    public ServiceInstance restart(String id, String why) {
        return restart(id, -1, why).orElseThrow();
    }

    /**
     * Restarts the member if the registry still shows it at {@code incarnation}; otherwise someone
     * restarted it already and the member as it is now is the answer.
     */
    public ServiceInstance restartIfAt(String id, long incarnation, String why) {
        return restart(id, incarnation, why).orElseGet(() -> member(id));
    }

    /**
     * Restarts the member only if the registry still shows {@code incarnation} (or any, for -1): a
     * death seen twice (the launcher's exit and the registry's DEAD) restarts it once.
     */
    private Optional<ServiceInstance> restart(String id, long incarnation, String why) {
        return restart(id, incarnation, why, false, false);
    }

    /**
     * Two processes of one member never run at once: the incarnation it replaces is stopped (the one
     * this node looks after, or else the process the registry records for it, which this node may not
     * know: it restarted itself, or it adopts the member) and confirmed gone before the next one starts.
     * When that cannot be confirmed (its host does not answer) no incarnation starts: the member is left
     * as it is, and a later supervision round tries again.
     *
     * @param adopting whether this node takes the member over from a supervisor that is gone
     *                 ({@link Supervision}); otherwise it must supervise it already
     * @param ended    whether the launcher saw the incarnation it replaces end (its process is gone)
     * @throws SpawnerException {@code 503 old-incarnation-may-run} when the old process cannot be confirmed gone
     */
    private Optional<ServiceInstance> restart(String id, long incarnation, String why, boolean adopting, boolean ended) {
        ManagedMember member = members.of(id);
        synchronized (member) {
            ServiceInstance instance = adopting ? registry.get(id) : member(id);
            if (incarnation >= 0 && instance.incarnation() != incarnation) {
                return Optional.empty();
            }
            switch (instance.state()) {
                case LOST -> throw new SpawnerException(HttpStatus.CONFLICT, "member-lost", "member " + id
                        + " is LOST with all its state (" + instance.stateReason() + "); spawn a fresh member instead");
                case STOPPED -> throw new SpawnerException(HttpStatus.CONFLICT, "member-stopped", "member " + id
                        + " was stopped on purpose; spawn a fresh member instead");
                default -> { }
            }
            if (!ended && instance.state() == InstanceState.RUNNING) {
                // A restart, not a stop for good: the member leaves its own members running for its next incarnation.
                bootstrapper.announceRestart(instance, MemberPlan.of(instance).config().get(MemberEnvironment.VIA_CONFIG));
            }
            Optional<LaunchedMember> old = member.giveUp();
            old.ifPresent(launched -> launched.stop(properties.stopGrace()));
            if (!ended && (old.isEmpty() || !old.get().outcome().isDone())) {
                Optional<String> unconfirmed = launcher.ensureGone(instance, properties.stopGrace());
                if (unconfirmed.isPresent()) {
                    throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "old-incarnation-may-run", "member " + id
                            + " was not restarted: its incarnation " + instance.incarnation() + " may still run ("
                            + unconfirmed.get() + "); retry once its host answers");
                }
            }
            if (!member.restarts().admit(Instant.now())) {
                String reason = member.restarts().givenUp();
                changeState(instance, InstanceState.FAILED, reason);
                throw new SpawnerException(HttpStatus.CONFLICT, "crash-loop", "member " + id + " " + reason
                        + "; see its log and spawn a fresh member when fixed");
            }
            log.info("member {}: restarting as incarnation {} ({})", id, instance.incarnation() + 1, why);
            return Optional.of(start(member, instance.incarnation() + 1, MemberPlan.of(instance), why, Optional.of(instance)));
        }
    }

    /** Stops a member on request: the registry shows STOPPED. */
    public void stop(String id) {
        stop(id, stopGraces().apply(id));
    }

    /** Stops a member, given {@code grace} to end before it is killed: the registry shows STOPPED. */
    private void stop(String id, Duration grace) {
        ManagedMember member = members.of(id);
        synchronized (member) {
            ServiceInstance instance = member(id);
            bootstrapper.close(member, instance.incarnation());
            member.giveUp().ifPresent(launched -> launched.stop(grace));
            if (instance.state() != InstanceState.STOPPED && instance.state() != InstanceState.LOST) {
                registry.changeState(id, instance.incarnation(), InstanceState.STOPPED, "stopped by its spawner on request", null);
            }
            // Stopped on purpose: no incarnation will need its data again.
            launcher.release(id);
            log.info("member {}: stopped on request", id);
        }
    }

    /** The members this node supervises (those it spawned and those it adopted), as the registry knows them. */
    public List<ServiceInstance> members() {
        return Supervision.supervisedBy(identity.id(), registry.list(null, null, null, null).instances());
    }

    /** One member this node supervises. */
    public ServiceInstance member(String id) {
        Optional<ServiceInstance> instance = registry.find(id);
        if (instance.isEmpty() || !identity.id().equals(Supervision.supervisorOf(instance.get()))) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "unknown-member", identity.id() + " supervises no member '" + id
                    + "'; GET /api/v1/members lists those it does");
        }
        return instance.get();
    }

    /**
     * The end of a member's log, at most {@code maxBytes}, read by the launcher that runs it.
     *
     * @throws SpawnerException 404 {@code unknown-member} when this node does not supervise it,
     *         404 {@code no-log} when its launcher keeps no log it can read, 502 {@code log-unreadable}
     *         when the log should be there and cannot be read
     */
    public MemberLog log(String id, int maxBytes) {
        ServiceInstance instance = member(id);
        String launchedBy = instance.metadata() == null ? launcher.name() : instance.metadata().getOrDefault("launcher", launcher.name());
        try {
            return launcher.logTail(instance, maxBytes).orElseThrow(() -> new SpawnerException(HttpStatus.NOT_FOUND, "no-log",
                    "no log of member '" + id + "' can be read by the " + launchedBy + " launcher"
                            + ("kubernetes".equals(launchedBy) ? " (kubectl logs reads a pod's output)" : "")));
        } catch (LaunchException e) {
            throw new SpawnerException(HttpStatus.BAD_GATEWAY, "log-unreadable", e.getMessage());
        }
    }

    /**
     * Adopts {@code orphan}, a member of {@code gone}, a supervisor that is gone for good
     * ({@link Supervision#adopt} decides): its running process is watched from now on, or it is
     * started again under its id. The registry records this node as its supervisor first (and the
     * adoption in the member's history), so no other node takes it too. A member of a supervisor that
     * stopped with its members is stopped for good instead.
     *
     * @return the member as it is once stopped for good, whose own members are then to be stopped
     *         too; empty when it was adopted or left
     */
    Optional<ServiceInstance> adoptOrphan(ServiceInstance orphan, ServiceInstance gone) {
        switch (Supervision.adopt(orphan, gone, identity.id(), properties.stopMembersOnShutdown())) {
            case Supervision.Adoption.Take(String reason) -> {
                Optional<LaunchedMember> launched = launcher.adopt(orphan);
                if (launched.isEmpty()) {
                    restartAdopted(orphan, reason + " (its process was gone)");
                    return Optional.empty();
                }
                ManagedMember member = members.of(orphan.id());
                synchronized (member) {
                    registry.register(new RegistrationRequest(orphan.id(), orphan.type(), orphan.name(), InstanceState.RUNNING,
                            orphan.incarnation(), orphan.parentId(), orphan.connectivity(), null,
                            Map.of(Supervision.SUPERVISOR, identity.id())));
                    member.launched(launched.get());
                    watch(member, launched.get());
                }
                log.info("member {} incarnation {}: {}", orphan.id(), orphan.incarnation(), reason);
            }
            // A bootstrap that lived in the gone supervisor cannot finish: its process, if any, goes first (restart sees to it).
            case Supervision.Adoption.Restart(String reason) -> restartAdopted(orphan, reason);
            case Supervision.Adoption.Stop(String reason) -> {
                return stopAdopted(orphan, reason);
            }
            case Supervision.Adoption.Wait _, Supervision.Adoption.Leave _ -> { }
        }
        return Optional.empty();
    }

    /**
     * Finishes the stop of a member whose supervisor stopped with its members and was killed before it
     * had stopped this one: its process, where one is left, is stopped first, and only once it is
     * confirmed gone is the member recorded STOPPED (a later round tries again).
     */
    private Optional<ServiceInstance> stopAdopted(ServiceInstance orphan, String reason) {
        Optional<String> unconfirmed = launcher.ensureGone(orphan, properties.stopGrace());
        if (unconfirmed.isPresent()) {
            log.warn("member {}: not stopped yet: its incarnation {} may still run ({}); trying again every supervision round",
                    orphan.id(), orphan.incarnation(), unconfirmed.get());
            return Optional.empty();
        }
        try {
            ServiceInstance stopped = registry.changeState(orphan.id(), orphan.incarnation(), InstanceState.STOPPED, reason, null);
            // Stopped on purpose, as its supervisor meant it: no incarnation will need its data again.
            launcher.release(orphan.id());
            log.info("member {} incarnation {}: {}", orphan.id(), orphan.incarnation(), reason);
            return Optional.of(stopped);
        } catch (RegistryCallException e) {
            log.warn("member {}: could not record STOPPED ({}): {}", orphan.id(), reason, e.getMessage());
            return Optional.empty();
        }
    }

    private void restartAdopted(ServiceInstance orphan, String reason) {
        log.info("member {}: {}; restarting it", orphan.id(), reason);
        try {
            restart(orphan.id(), orphan.incarnation(), reason, true, false);
        } catch (SpawnerException | RegistryCallException e) {
            log.warn("member {}: not restarted by its adopter: {}", orphan.id(), e.getMessage());
        }
    }

    /**
     * Lets go of a member another node supervises now (it adopted the member while this node was
     * gone): its process is left running and its end is no longer this node's business.
     */
    void letGo(String id, String supervisor) {
        members.find(id).ifPresent(member -> {
            synchronized (member) {
                if (member.giveUp().isPresent()) {
                    log.info("member {}: supervised by {} now; this node lets it go", id, supervisor);
                }
            }
        });
    }

    /** Whether this node has looked after any member since it started: spawned, restarted, adopted or stopped one. */
    boolean supervisedAny() {
        return !members.isEmpty();
    }

    /** The ids of the members this node looks after a live incarnation of. */
    List<String> live() {
        return members.all().stream().filter(ManagedMember::isLive).map(ManagedMember::id).toList();
    }

    /** Re-adopts a member found running after this spawner restarted. */
    void adopt(ServiceInstance instance, LaunchedMember launched) {
        ManagedMember member = members.of(instance.id());
        synchronized (member) {
            member.launched(launched);
            watch(member, launched);
        }
    }

    /** Stops every member (a laptop spawner shutting down with fabric.spawner.stop-members-on-shutdown). */
    void stopAll() {
        List<String> ids = live();
        Function<String, Duration> graces = stopGraces();
        stopAtOnce(ids, id -> stop(id, graces.apply(id)));
    }

    /**
     * The grace each member is given to stop ({@link Supervision#stopGrace}): with stop-members-on-shutdown, a member
     * stops its own members first, each within the same grace, so it is given theirs on top of its own. Without the
     * registry's list, the grace alone.
     */
    private Function<String, Duration> stopGraces() {
        if (!properties.stopMembersOnShutdown()) {
            return id -> properties.stopGrace();
        }
        try {
            List<ServiceInstance> all = registry.list(null, null, null, null).instances();
            return id -> Supervision.stopGrace(properties.stopGrace(), id, all, true);
        } catch (RegistryCallException e) {
            log.warn("cannot list the members' own members to give them time to stop theirs ({}); each gets {}", e.getMessage(),
                    properties.stopGrace());
            return id -> properties.stopGrace();
        }
    }

    /**
     * Stops each member on a thread of its own and returns once all are stopped. At once, not in turn:
     * each may take its stop grace, and a node that is itself a member has a grace of its own from its
     * spawner; in turn, a pilot manager's four members outlasted it and the last were left running when
     * it was killed.
     */
    static void stopAtOnce(List<String> ids, Consumer<String> stop) {
        try (var stops = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String id : ids) {
                stops.submit(() -> {
                    try {
                        stop.accept(id);
                    } catch (RuntimeException e) {
                        log.warn("member {}: could not stop it cleanly: {}", id, e.getMessage());
                    }
                });
            }
        }
    }

    /**
     * Steps 1 and 2 of an incarnation: registered PENDING, a password, launched, BOOTSTRAPPING; the rest in the background.
     * A member keeps its parent across restarts; this node, which starts it, supervises it (recorded when it is not the parent).
     *
     * @param previous the incarnation this one follows, empty for a new member
     */
    private ServiceInstance start(ManagedMember member, long incarnation, MemberPlan plan, String why, Optional<ServiceInstance> previous) {
        String id = member.id();
        boolean restart = previous.isPresent();
        String parent = previous.map(ServiceInstance::parentId).orElse(identity.id());
        Map<String, String> metadata = new LinkedHashMap<>(plan.metadata(plan.host() == null ? launcher.name() : "ssh"));
        metadata.putAll(Supervision.recorded(identity.id(), parent));
        registry.register(new RegistrationRequest(id, plan.type(), plan.name(), InstanceState.PENDING, incarnation, parent,
                plan.connectivity(), null, metadata));
        StartingSlots.Slot slot = slotFor(id, incarnation, plan);
        boolean handedOver = false;
        try {
            OneTimePassword otp = bootstrapper.open(member, incarnation);
            LaunchedMember launched;
            try {
                Map<String, String> environment = environment(id, incarnation, plan);
                if (plan.connectivity() == Connectivity.SPLICED) {
                    environment.put(MemberEnvironment.RENDEZVOUS, openRendezvous(member, incarnation));
                }
                LaunchSpec spec = new LaunchSpec(id, incarnation, plan.type(), plan.connectivity(), plan.resources(), environment, otp, plan.host());
                launched = previous.isPresent() ? launcher.relaunch(spec, previous.get()) : launcher.launch(spec);
            } catch (LaunchException e) {
                bootstrapper.close(member, incarnation);
                ServiceInstance failed = registry.changeState(id, incarnation, InstanceState.FAILED, "launch failed: " + e.getMessage(), null);
                launchLog.warn("member {} incarnation {}: launch failed: {}", id, incarnation, e.getMessage());
                throw new SpawnerException(HttpStatus.BAD_GATEWAY, "launch-failed", "member " + id + " (" + failed.state() + "): "
                        + e.getMessage());
            }
            member.launched(launched);
            registry.register(new RegistrationRequest(id, plan.type(), plan.name(), InstanceState.BOOTSTRAPPING, incarnation, parent,
                    plan.connectivity(), null, launched.metadata()));
            String launchedBy = launched.metadata().getOrDefault("launcher", launcher.name());
            launchLog.info("member {} incarnation {}: launched by the {} launcher {}", id, incarnation, launchedBy, launched.metadata());
            registry.changeState(id, incarnation, InstanceState.BOOTSTRAPPING, "launched by the " + launchedBy + " launcher ("
                    + describe(launched.metadata()) + "); " + why, null);
            watch(member, launched);
            Instant deadline = Instant.now().plus(properties.bootstrapTimeout());
            Thread.ofVirtual().name("bootstrap-" + id + "-" + incarnation).start(() -> {
                try (slot) {
                    bootstrap(member, launched, plan, restart, deadline, slot);
                }
            });
            handedOver = true;
        } finally {
            if (!handedOver) {
                slot.close();
            }
        }
        return registry.get(id);
    }

    /**
     * A starting slot for a launch that starts a JVM on this node ({@link StartingSlots}), waited for
     * while all are taken; no slot for a pod or another host.
     */
    private StartingSlots.Slot slotFor(String id, long incarnation, MemberPlan plan) {
        if (!launcher.startsOnThisNode(plan.host())) {
            return StartingSlots.Slot.NONE;
        }
        if (starting.waiting() > 0 || !starting.hasFree()) {
            launchLog.info("member {} incarnation {}: waits to start until one of the {} members starting on this node is RUNNING "
                    + "(fabric.spawner.process.max-starting)", id, incarnation, starting.size());
        }
        try {
            return starting.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            registry.changeState(id, incarnation, InstanceState.FAILED, "not launched: the spawner is shutting down", null);
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", "member " + id
                    + " was not launched: the spawner is shutting down");
        }
    }

    /** Mode 4: the rendezvous for the member's splice; a registry that will not open one fails the launch. */
    private String openRendezvous(ManagedMember member, long incarnation) {
        try {
            return bootstrapper.openRendezvous(member, incarnation);
        } catch (RegistryCallException | BootstrapFailure e) {
            throw new LaunchException("mode 4: no rendezvous for the splice: " + e.getMessage(), e);
        }
    }

    private Map<String, String> environment(String id, long incarnation, MemberPlan plan) {
        Map<String, String> environment = new HashMap<>();
        environment.put(MemberEnvironment.SERVICE_ID, id);
        environment.put(MemberEnvironment.INCARNATION, Long.toString(incarnation));
        environment.put(MemberEnvironment.ROLE, plan.type());
        environment.put(MemberEnvironment.SPAWNER_URL, identity.url().toString());
        environment.put(MemberEnvironment.SPAWNER_ID, identity.id());
        environment.put(MemberEnvironment.REGISTRY_URL, registry.baseUrl().toString());
        environment.put(MemberEnvironment.CONNECTIVITY, plan.connectivity().name());
        String via = plan.config().get(MemberEnvironment.VIA_CONFIG);
        if (via != null && !via.isBlank()) {
            environment.put(MemberEnvironment.VIA, via);
        }
        environment.putAll(inherited());
        return environment;
    }

    /**
     * The settings a member spawns its own members with, inherited from this node (docs/spawner.md,
     * "Every member spawns"): as {@code fabric.spawner.*} in its environment, where Spring reads them.
     * The process launcher's java and jar are not passed: a member runs its own, which are this node's.
     * The launcher adds its own ({@link Launcher#inheritedEnvironment}): the SSH launcher's hosts, and
     * its distribution for the members started on this node.
     */
    private Map<String, String> inherited() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("FABRIC_SPAWNER_ROLES", String.join(",", properties.roles()));
        settings.put("FABRIC_SPAWNER_OTPTTL", properties.otpTtl().toString());
        settings.put("FABRIC_SPAWNER_BOOTSTRAPTIMEOUT", properties.bootstrapTimeout().toString());
        settings.put("FABRIC_SPAWNER_STOPGRACE", properties.stopGrace().toString());
        settings.put("FABRIC_SPAWNER_MAXRESTARTS", Integer.toString(properties.maxRestarts()));
        settings.put("FABRIC_SPAWNER_RESTARTWINDOW", properties.restartWindow().toString());
        settings.put("FABRIC_SPAWNER_SUPERVISEINTERVAL", properties.superviseInterval().toString());
        settings.put("FABRIC_SPAWNER_STOPMEMBERSONSHUTDOWN", Boolean.toString(properties.stopMembersOnShutdown()));
        if (!properties.process().jvmOptions().isEmpty()) {
            settings.put("FABRIC_SPAWNER_PROCESS_JVMOPTIONS", String.join(",", properties.process().jvmOptions()));
        }
        if (properties.process().maxStarting() > 0) {
            settings.put("FABRIC_SPAWNER_PROCESS_MAXSTARTING", Integer.toString(properties.process().maxStarting()));
        }
        if (security != null) {
            // The fabric's signature policy, which every member verifies by as this node does (a Helm release sets it for
            // the whole fabric). Not the authorities: they are the names this node is reached under, not its members'.
            FabricSecurityProperties.Signature signature = security.signature();
            settings.put("FABRIC_SECURITY_SIGNATURE_SKEW", signature.skew().toString());
            settings.put("FABRIC_SECURITY_SIGNATURE_REPLAYCACHECAPACITY", Integer.toString(signature.replayCacheCapacity()));
            settings.put("FABRIC_SECURITY_SIGNATURE_MAXHEADERBYTES", Integer.toString(signature.maxHeaderBytes()));
            settings.put("FABRIC_SECURITY_SIGNATURE_MAXBODYSIZE", signature.maxBodySize().toBytes() + "B");
        }
        settings.putAll(launcher.inheritedEnvironment());
        return settings;
    }

    private void watch(ManagedMember member, LaunchedMember launched) {
        launched.outcome().thenAccept(outcome -> Thread.ofVirtual().start(() -> ended(member, launched.incarnation(), outcome)));
    }

    /**
     * Steps 3 to 5 in the background; a failure ends the incarnation FAILED (or LOST, when it said
     * so). A member the registry saw RUNNING started ({@link Bootstrapper#reachedRunning}): its end,
     * during the bootstrap's last steps or after, is that of a RUNNING member ({@link #ended}), which
     * is restarted under its id.
     */
    private void bootstrap(ManagedMember member, LaunchedMember launched, MemberPlan plan, boolean restart, Instant deadline,
                           StartingSlots.Slot slot) {
        String id = member.id();
        long incarnation = launched.incarnation();
        long started = System.nanoTime();
        try {
            bootstrapper.complete(member, launched, plan.connectivity(), plan.type(), plan.config(), restart, deadline);
        } catch (BootstrapFailure | RegistryCallException e) {
            failed(member, launched, restart, started, e.getMessage(), slot);
            return;
        }
        recordBootstrap("running", restart, started);
        // Given back before a restart, which may wait for a slot of its own.
        slot.close();
        // An end while the handshake went on was left to the bootstrap (ended(...) ignores it then); the bootstrap
        // succeeded, so that end is carried out now. Once the handshake is over, ended(...) sees ends by itself.
        LaunchOutcome outcome = launched.outcome().getNow(null);
        if (outcome != null) {
            ended(member, incarnation, outcome);
        }
    }

    /**
     * A bootstrap that failed: the member is given up and stopped unless it ends by itself, then
     * FAILED (or LOST). If the registry shows that it reached RUNNING meanwhile (its registration was
     * still on its way when the bootstrap asked), it started: its end is that of a RUNNING member.
     */
    private void failed(ManagedMember member, LaunchedMember launched, boolean restart, long started, String failure,
                        StartingSlots.Slot slot) {
        String id = member.id();
        long incarnation = launched.incarnation();
        if (!member.giveUp(incarnation)) {
            return; // stopped on purpose or superseded meanwhile
        }
        log.warn("member {} incarnation {}: bootstrap failed: {}", id, incarnation, failure);
        // A member that cannot go on exits by itself with a bootstrap status that says why; give it the time to.
        LaunchOutcome outcome = outcomeWithin(launched, properties.stopGrace());
        if (outcome == null) {
            launched.stop(properties.stopGrace());
        }
        // Given back before what follows, which may start a member (a restart, a LOST member's replacement) and wait for a slot.
        slot.close();
        registry.find(id).filter(i -> i.incarnation() == incarnation).ifPresent(instance -> {
            Ending ending;
            if (outcome != null && Bootstrapper.reachedRunning(instance, incarnation)) {
                log.info("member {} incarnation {}: it had registered RUNNING, then {}", id, incarnation, outcome.describe());
                meters.counter("fabric.spawner.ends", "outcome", Ending.metricTag(outcome)).increment();
                ending = Ending.decide(outcome, new Ending.Seen(true, false, Optional.of(instance.state())));
                recordBootstrap("running", restart, started);
            } else {
                ending = Ending.bootstrapFailed(outcome, failure);
                recordBootstrap(ending instanceof Ending.Lose ? "lost" : "failed", restart, started);
            }
            carryOut(ending, instance);
        });
    }

    private static LaunchOutcome outcomeWithin(LaunchedMember member, Duration wait) {
        try {
            return member.outcome().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** An incarnation ended: {@link Ending#decide} says what follows, this carries it out. */
    private void ended(ManagedMember member, long incarnation, LaunchOutcome outcome) {
        bootstrapper.memberEnded(member, incarnation, outcome);
        Ending ending;
        Optional<ServiceInstance> found;
        synchronized (member) {
            boolean current = member.live(incarnation).isPresent();
            boolean bootstrapping = member.handshake(incarnation).isPresent();
            found = current && !bootstrapping ? registry.find(member.id()).filter(i -> i.incarnation() == incarnation) : Optional.empty();
            ending = Ending.decide(outcome, new Ending.Seen(current, bootstrapping, found.map(ServiceInstance::state)));
            if (!bootstrapping) {
                member.giveUp(incarnation);
            }
            if (ending instanceof Ending.Ignore) {
                return;
            }
        }
        log.info("member {} incarnation {}: {}", member.id(), incarnation, outcome.describe());
        meters.counter("fabric.spawner.ends", "outcome", Ending.metricTag(outcome)).increment();
        carryOut(ending, found.orElseThrow());
    }

    /** Carries out an ending of the incarnation {@code instance} shows. */
    private void carryOut(Ending ending, ServiceInstance instance) {
        switch (ending) {
            case Ending.Restart(String why, Optional<String> dead) -> {
                dead.ifPresent(reason -> changeState(instance, InstanceState.DEAD, reason));
                try {
                    restart(instance.id(), instance.incarnation(), why, false, true);
                } catch (SpawnerException | RegistryCallException e) {
                    log.warn("member {}: not restarted: {}", instance.id(), e.getMessage());
                }
            }
            case Ending.Fail(String reason) -> changeState(instance, InstanceState.FAILED, reason);
            case Ending.Lose(String reason) -> lose(instance, reason);
            case Ending.Stop(String reason) -> changeState(instance, InstanceState.STOPPED, reason);
            case Ending.Ignore _ -> { }
        }
    }

    /**
     * Restarts a member found dead (declared DEAD by the registry, or gone when the spawner came
     * back), unless it has moved on since it was seen; a hung process is stopped first.
     */
    void restartIfUnchanged(ServiceInstance seen, String why) {
        Optional<String> unreachable = launcher.unreachable(seen);
        if (unreachable.isPresent()) {
            // It stays DEAD, and the next supervision round tries again: no incarnation is spent on a launch that cannot work.
            log.warn("member {}: not restarted yet: {}; trying again every supervision round", seen.id(), unreachable.get());
            return;
        }
        try {
            restart(seen.id(), seen.incarnation(), why);
        } catch (SpawnerException | RegistryCallException e) {
            log.warn("member {}: not restarted: {}", seen.id(), e.getMessage());
        }
    }

    /**
     * LOST with all its state. Then, by the role's policy, a fresh member of the same role, or the
     * loss is left for the application to see (the registry's LOST event; FabricClient raises
     * MemberLostException).
     */
    private void lose(ServiceInstance instance, String reason) {
        if (instance.state() != InstanceState.FAILED) {
            changeState(instance, InstanceState.FAILED, reason);
        }
        changeState(instance, InstanceState.LOST, reason);
        // Its state is considered gone: what the launcher kept of it goes too.
        launcher.release(instance.id());
        log.warn("member {}: LOST: {}", instance.id(), reason);
        boolean replace = Boolean.parseBoolean(instance.metadata() == null ? null : instance.metadata().get(REPLACE_WHEN_LOST));
        if (replace) {
            MemberPlan plan = MemberPlan.of(instance);
            ServiceInstance fresh = spawn(plan.freshRequest());
            log.info("member {} (role {}) replaced by the fresh member {}", instance.id(), plan.type(), fresh.id());
        } else {
            try {
                registry.report(instance.id(), new ReportRequest(ReportRequest.Kind.FAILED, identity.id(), instance.incarnation(),
                        "LOST and not replaced (role " + instance.type() + " keeps state no fresh member has): " + reason));
            } catch (RegistryCallException e) {
                // The LOST state itself is the report; this only adds the spawner's words to it.
                log.debug("member {}: loss report not recorded: {}", instance.id(), e.getMessage());
            }
        }
    }

    private void changeState(ServiceInstance instance, InstanceState state, String reason) {
        try {
            ServiceInstance current = registry.get(instance.id());
            if (current.incarnation() != instance.incarnation() || current.state() == state || !current.state().canMoveTo(state)) {
                return;
            }
            registry.changeState(instance.id(), instance.incarnation(), state, reason, null);
        } catch (RegistryCallException e) {
            log.warn("member {}: could not record {} ({}): {}", instance.id(), state, reason, e.getMessage());
        }
    }

    private static String describe(Map<String, String> metadata) {
        StringBuilder text = new StringBuilder();
        metadata.forEach((k, v) -> {
            if (!k.equals("launcher")) {
                text.append(text.isEmpty() ? "" : ", ").append(k).append(' ').append(v);
            }
        });
        return text.toString();
    }

    private byte[] bytes(int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
