package dev.fabric.spawner.spawn;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.RegistryException;
import dev.fabric.core.registry.ReportRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.bootstrap.BootstrapFailure;
import dev.fabric.spawner.bootstrap.Bootstrapper;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import dev.fabric.spawner.launch.MemberEnvironment;
import dev.fabric.spawner.launch.Resources;
import dev.fabric.spawner.member.BootstrapExit;
import dev.fabric.spawner.web.SpawnerException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Spawns, restarts and stops this spawner's members, and decides what happens when one ends:
 * restarted under its id (killed, crashed, declared DEAD), FAILED (a bootstrap that cannot work),
 * LOST (its state could not be recovered; then replaced or reported up, by its role's policy).
 */
@Service
@Profile("!member")
public class SpawnService {

    private static final Logger log = LoggerFactory.getLogger(SpawnService.class);
    private static final Logger launchLog = LoggerFactory.getLogger("fabric.bootstrap.launch");
    static final String CONFIG_PREFIX = "config.";
    /** Set by a member in its registration: whether a lost member of its role is replaced by a fresh one. */
    static final String REPLACE_WHEN_LOST = "role.replace-when-lost";

    private final Launcher launcher;
    private final Bootstrapper bootstrapper;
    private final RegistryClient registry;
    private final SpawnerProperties properties;
    private final SpawnerIdentity identity;
    private final ConcurrentMap<String, Tracked> members = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Deque<Instant>> restarts = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Object> locks = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final MeterRegistry meters;

    public SpawnService(Launcher launcher, Bootstrapper bootstrapper, RegistryClient registry, SpawnerProperties properties,
                        SpawnerIdentity identity, MeterRegistry meters) {
        this.launcher = launcher;
        this.bootstrapper = bootstrapper;
        this.registry = registry;
        this.properties = properties;
        this.identity = identity;
        this.meters = meters;
    }

    /**
     * {@code fabric.spawner.bootstraps{outcome=running|failed|lost, restart}}: how long from launch to
     * RUNNING or to the failure; {@code fabric.spawner.ends{outcome}}: how members ended.
     */
    private void recordBootstrap(String outcome, boolean restart, long startedNanos) {
        Timer.builder("fabric.spawner.bootstraps").description("Bootstraps from launch to RUNNING or failure")
                .tag("outcome", outcome).tag("restart", Boolean.toString(restart))
                .register(meters).record(System.nanoTime() - startedNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void recordEnd(String outcome) {
        meters.counter("fabric.spawner.ends", "outcome", outcome).increment();
    }

    /** A running incarnation this spawner looks after; {@code stopping} once its end is on purpose. */
    private record Tracked(LaunchedMember member, long incarnation, java.util.concurrent.atomic.AtomicBoolean stopping) {
        Tracked(LaunchedMember member, long incarnation) {
            this(member, incarnation, new java.util.concurrent.atomic.AtomicBoolean());
        }

        boolean isStopping() {
            return stopping.get();
        }

        void markStopping() {
            stopping.set(true);
        }
    }

    /** What a member is started with; kept in the registry so a restart (even by a restarted spawner) repeats it. */
    private record Plan(String type, String name, Connectivity connectivity, Resources resources, Map<String, String> config) {}

    /** Starts a new member of a role (steps 1 and 2 here; steps 3 to 5 go on in the background). */
    public ServiceInstance spawn(SpawnRequest request) {
        if (!properties.roles().contains(request.type())) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "unknown-role", "this spawner runs no role '" + request.type()
                    + "'; its roles are " + properties.roles());
        }
        Connectivity connectivity = request.connectivity() == null ? Connectivity.DIRECT : request.connectivity();
        if (connectivity == Connectivity.SPLICED) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "unsupported-connectivity", "connectivity SPLICED (mode 4, TCP "
                    + "splicing through the registry) is planned, not available: use DIRECT, FIREWALL_TO_SERVICE or FIREWALL_FROM_SERVICE "
                    + "(docs/spawner.md)");
        }
        Resources resources;
        try {
            resources = request.resources() == null ? Resources.DEFAULT : new Resources(
                    request.resources().cpu() == null ? Resources.DEFAULT.cpu() : request.resources().cpu(),
                    request.resources().memory() == null ? Resources.DEFAULT.memory() : request.resources().memory());
        } catch (IllegalArgumentException e) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-resources", e.getMessage());
        }
        String id = request.type() + "-" + HexFormat.of().formatHex(bytes(4));
        Plan plan = new Plan(request.type(), request.name(), connectivity, resources,
                request.config() == null ? Map.of() : request.config());
        synchronized (lock(id)) {
            return start(id, 1, plan, false, "spawned");
        }
    }

    /**
     * Starts a new incarnation under the member's id (seed: "the service gets its old ID assigned").
     * A live old incarnation is stopped first.
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
        synchronized (lock(id)) {
            ServiceInstance instance = member(id);
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
            if (crashLooping(id)) {
                String reason = "restarted " + properties.maxRestarts() + " times within " + properties.restartWindow() + "; given up";
                fail(instance, reason);
                throw new SpawnerException(HttpStatus.CONFLICT, "crash-loop", "member " + id + " " + reason
                        + "; see its log and spawn a fresh member when fixed");
            }
            Tracked old = members.remove(id);
            if (old != null) {
                old.markStopping();
                old.member().stop(properties.stopGrace());
            }
            log.info("member {}: restarting as incarnation {} ({})", id, instance.incarnation() + 1, why);
            return Optional.of(start(id, instance.incarnation() + 1, planOf(instance), true, why));
        }
    }

    /** Stops a member on request: the registry shows STOPPED. */
    public void stop(String id) {
        synchronized (lock(id)) {
            ServiceInstance instance = member(id);
            Tracked tracked = members.remove(id);
            if (tracked != null) {
                tracked.markStopping();
                bootstrapper.close(id, tracked.incarnation());
                tracked.member().stop(properties.stopGrace());
            }
            if (instance.state() != InstanceState.STOPPED && instance.state() != InstanceState.LOST) {
                registry.changeState(id, instance.incarnation(), InstanceState.STOPPED, "stopped by its spawner on request", null);
            }
            // Stopped on purpose: no incarnation will need its data again.
            launcher.release(id);
            log.info("member {}: stopped on request", id);
        }
    }

    /** This spawner's members, as the registry knows them. */
    public List<ServiceInstance> members() {
        return registry.list(null, null, identity.id(), null).instances();
    }

    /** One member of this spawner. */
    public ServiceInstance member(String id) {
        Optional<ServiceInstance> instance = registry.find(id);
        if (instance.isEmpty() || !identity.id().equals(instance.get().parentId())) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "unknown-member", "spawner " + identity.id() + " has no member '" + id
                    + "'; GET /api/v1/members lists them");
        }
        return instance.get();
    }

    /** Whether this spawner watches a live incarnation of the member. */
    boolean tracks(String id, long incarnation) {
        Tracked tracked = members.get(id);
        return tracked != null && tracked.incarnation() == incarnation;
    }

    /** Re-adopts a member found running after this spawner restarted. */
    void adopt(ServiceInstance instance, LaunchedMember member) {
        synchronized (lock(instance.id())) {
            members.put(instance.id(), new Tracked(member, member.incarnation()));
            member.outcome().thenAccept(outcome -> Thread.ofVirtual().start(() -> ended(instance.id(), member.incarnation(), outcome)));
        }
    }

    /** Stops every member (a laptop spawner shutting down with fabric.spawner.stop-members-on-shutdown). */
    void stopAll() {
        for (String id : List.copyOf(members.keySet())) {
            try {
                stop(id);
            } catch (RuntimeException e) {
                log.warn("member {}: could not stop it cleanly: {}", id, e.getMessage());
            }
        }
    }

    private ServiceInstance start(String id, long incarnation, Plan plan, boolean restart, String why) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("launcher", launcher.name());
        metadata.put("cpu", plan.resources().cpu());
        metadata.put("memory", plan.resources().memory());
        plan.config().forEach((k, v) -> metadata.put(CONFIG_PREFIX + k, v));
        registry.register(new RegistrationRequest(id, plan.type(), plan.name(), InstanceState.PENDING, incarnation, identity.id(),
                plan.connectivity(), null, metadata));
        OneTimePassword otp = bootstrapper.open(id, incarnation);
        Map<String, String> environment = new HashMap<>();
        environment.put(MemberEnvironment.SERVICE_ID, id);
        environment.put(MemberEnvironment.INCARNATION, Long.toString(incarnation));
        environment.put(MemberEnvironment.ROLE, plan.type());
        environment.put(MemberEnvironment.SPAWNER_URL, identity.url().toString());
        environment.put(MemberEnvironment.SPAWNER_ID, identity.id());
        environment.put(MemberEnvironment.REGISTRY_URL, registry.baseUrl().toString());
        environment.put(MemberEnvironment.CONNECTIVITY, plan.connectivity().name());
        LaunchedMember member;
        try {
            member = launcher.launch(new LaunchSpec(id, incarnation, plan.type(), plan.connectivity(), plan.resources(), environment, otp));
        } catch (LaunchException e) {
            bootstrapper.close(id, incarnation);
            ServiceInstance failed = registry.changeState(id, incarnation, InstanceState.FAILED, "launch failed: " + e.getMessage(), null);
            launchLog.warn("member {} incarnation {}: launch failed: {}", id, incarnation, e.getMessage());
            throw new SpawnerException(HttpStatus.BAD_GATEWAY, "launch-failed", "member " + id + " (" + failed.state() + "): "
                    + e.getMessage());
        }
        Tracked tracked = new Tracked(member, incarnation);
        members.put(id, tracked);
        registry.register(new RegistrationRequest(id, plan.type(), plan.name(), InstanceState.BOOTSTRAPPING, incarnation, identity.id(),
                plan.connectivity(), null, member.metadata()));
        launchLog.info("member {} incarnation {}: launched by the {} launcher {}", id, incarnation, launcher.name(), member.metadata());
        registry.changeState(id, incarnation, InstanceState.BOOTSTRAPPING, "launched by the " + launcher.name() + " launcher ("
                + describe(member.metadata()) + "); " + why, null);
        member.outcome().thenAccept(outcome -> Thread.ofVirtual().start(() -> ended(id, incarnation, outcome)));
        Instant deadline = Instant.now().plus(properties.bootstrapTimeout());
        Thread.ofVirtual().name("bootstrap-" + id + "-" + incarnation).start(() -> bootstrap(tracked, plan, restart, deadline));
        return registry.get(id);
    }

    private void bootstrap(Tracked tracked, Plan plan, boolean restart, Instant deadline) {
        String id = tracked.member().serviceId();
        long started = System.nanoTime();
        try {
            bootstrapper.complete(tracked.member(), plan.connectivity(), plan.type(), plan.config(), restart, deadline);
            recordBootstrap("running", restart, started);
        } catch (BootstrapFailure | RegistryException e) {
            synchronized (lock(id)) {
                if (tracked.isStopping() || !tracks(id, tracked.incarnation())) {
                    return;
                }
                members.remove(id);
                tracked.markStopping();
            }
            log.warn("member {} incarnation {}: bootstrap failed: {}", id, tracked.incarnation(), e.getMessage());
            // A member that cannot go on exits by itself with a bootstrap status that says why; give it the time to.
            LaunchOutcome outcome = outcomeWithin(tracked.member(), properties.stopGrace());
            if (outcome == null) {
                tracked.member().stop(properties.stopGrace());
            }
            registry.find(id).filter(i -> i.incarnation() == tracked.incarnation()).ifPresent(instance -> {
                boolean lost = outcome instanceof LaunchOutcome.Exited(int code) && code == BootstrapExit.STATE_UNRECOVERABLE.code();
                recordBootstrap(lost ? "lost" : "failed", restart, started);
                if (lost) {
                    lose(instance, "could not recover its state after a restart: " + e.getMessage());
                } else {
                    fail(instance, "bootstrap failed: " + e.getMessage());
                }
            });
        }
    }

    private static LaunchOutcome outcomeWithin(LaunchedMember member, java.time.Duration wait) {
        try {
            return member.outcome().get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** An incarnation ended: restart it, fail it, or mark it lost, by how it ended. */
    private void ended(String id, long incarnation, LaunchOutcome outcome) {
        bootstrapper.memberEnded(id, incarnation, outcome);
        ServiceInstance instance;
        synchronized (lock(id)) {
            Tracked tracked = members.get(id);
            if (tracked == null || tracked.incarnation() != incarnation || tracked.isStopping()
                    || bootstrapper.inProgress(id, incarnation)) {
                return; // stopped on purpose, superseded, or the bootstrap thread records the failure
            }
            members.remove(id);
            Optional<ServiceInstance> found = registry.find(id).filter(i -> i.incarnation() == incarnation);
            if (found.isEmpty()) {
                return;
            }
            instance = found.get();
        }
        log.info("member {} incarnation {}: {}", id, incarnation, outcome.describe());
        recordEnd(switch (outcome) {
            case LaunchOutcome.Exited(int code) when code == 0 -> "exited";
            case LaunchOutcome.Exited(int code) when BootstrapExit.of(code).isPresent() -> "bootstrap-exit";
            case LaunchOutcome.Exited _ -> "crashed";
            case LaunchOutcome.Killed _ -> "killed";
            case LaunchOutcome.Failed _ -> "launcher-failed";
            case LaunchOutcome.Stopped _ -> "stopped";
            case LaunchOutcome.Vanished _ -> "vanished";
        });
        Optional<BootstrapExit> exit = outcome instanceof LaunchOutcome.Exited(int code) ? BootstrapExit.of(code) : Optional.empty();
        if (exit.isPresent() && exit.get() == BootstrapExit.STATE_UNRECOVERABLE) {
            lose(instance, "could not recover its state after a restart (" + outcome.describe() + ")");
        } else if (exit.isPresent()) {
            fail(instance, outcome.describe() + ": " + exit.get().meaning());
        } else if (outcome instanceof LaunchOutcome.Exited(int code) && code == 0) {
            changeState(instance, InstanceState.STOPPED, "ended on its own (" + outcome.describe() + ")");
        } else {
            if (instance.state() == InstanceState.RUNNING || instance.state() == InstanceState.SUSPECT) {
                changeState(instance, InstanceState.DEAD, "its process " + outcome.describe());
            }
            try {
                restart(id, incarnation, "its previous incarnation " + outcome.describe());
            } catch (SpawnerException | RegistryException e) {
                log.warn("member {}: not restarted: {}", id, e.getMessage());
            }
        }
    }

    /**
     * Restarts a member found dead (declared DEAD by the registry, or gone when the spawner came
     * back), unless it has moved on since it was seen; a hung process is stopped first.
     */
    void restartIfUnchanged(ServiceInstance seen, String why) {
        try {
            restart(seen.id(), seen.incarnation(), why);
        } catch (SpawnerException | RegistryException e) {
            log.warn("member {}: not restarted: {}", seen.id(), e.getMessage());
        }
    }

    /**
     * LOST with all its state (seed: "it will be considered lost, along with all its state"). Then, by
     * the role's policy, a fresh member of the same role, or the loss is left for the application to
     * see (the registry's LOST event; FabricClient raises MemberLostException).
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
            Plan plan = planOf(instance);
            ServiceInstance fresh = spawn(new SpawnRequest(plan.type(), plan.name(), plan.connectivity(),
                    new SpawnRequest.ResourceRequest(plan.resources().cpu(), plan.resources().memory()), plan.config()));
            log.info("member {} (role {}) replaced by the fresh member {}", instance.id(), plan.type(), fresh.id());
        } else {
            try {
                registry.report(instance.id(), new ReportRequest(ReportRequest.Kind.FAILED, identity.id(), instance.incarnation(),
                        "LOST and not replaced (role " + instance.type() + " keeps state no fresh member has): " + reason));
            } catch (RegistryException e) {
                // The LOST state itself is the report; this only adds the spawner's words to it.
                log.debug("member {}: loss report not recorded: {}", instance.id(), e.getMessage());
            }
        }
    }

    private void fail(ServiceInstance instance, String reason) {
        changeState(instance, InstanceState.FAILED, reason);
    }

    private void changeState(ServiceInstance instance, InstanceState state, String reason) {
        try {
            ServiceInstance current = registry.get(instance.id());
            if (current.incarnation() != instance.incarnation() || current.state() == state || !current.state().canMoveTo(state)) {
                return;
            }
            registry.changeState(instance.id(), instance.incarnation(), state, reason, null);
        } catch (RegistryException e) {
            log.warn("member {}: could not record {} ({}): {}", instance.id(), state, reason, e.getMessage());
        }
    }

    private boolean crashLooping(String id) {
        Deque<Instant> times = restarts.computeIfAbsent(id, k -> new ArrayDeque<>());
        Instant now = Instant.now();
        synchronized (times) {
            while (!times.isEmpty() && times.peekFirst().isBefore(now.minus(properties.restartWindow()))) {
                times.pollFirst();
            }
            if (times.size() >= properties.maxRestarts()) {
                return true;
            }
            times.addLast(now);
            return false;
        }
    }

    private static Plan planOf(ServiceInstance instance) {
        Map<String, String> metadata = instance.metadata() == null ? Map.of() : instance.metadata();
        Map<String, String> config = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (k.startsWith(CONFIG_PREFIX)) {
                config.put(k.substring(CONFIG_PREFIX.length()), v);
            }
        });
        Resources resources = new Resources(metadata.getOrDefault("cpu", Resources.DEFAULT.cpu()),
                metadata.getOrDefault("memory", Resources.DEFAULT.memory()));
        Connectivity connectivity = instance.connectivity() == null ? Connectivity.DIRECT : instance.connectivity();
        return new Plan(instance.type(), instance.name(), connectivity, resources, config);
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

    private Object lock(String id) {
        return locks.computeIfAbsent(id, k -> new Object());
    }

    private byte[] bytes(int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
