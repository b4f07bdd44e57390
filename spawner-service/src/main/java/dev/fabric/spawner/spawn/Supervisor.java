package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.contract.OneAtATime;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.fabric.spawner.web.SpawnerException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.http.HttpStatus;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Keeps this node's members alive. The root spawner registers itself and heartbeats; a member that
 * spawns is registered and heartbeats by itself, and supervises once it is RUNNING. Both re-adopt
 * the members they find running after a restart (instead of spawning duplicates), restart those
 * the registry declares DEAD, adopt the members of a member of theirs that is gone for good, and
 * let go of members another node adopted meanwhile ({@link Supervision}).
 */
@Component
public class Supervisor implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final ObjectProvider<SpawnService> spawners;
    private final SpawnGate gate;
    private final SpawnerProperties properties;
    private final AtomicLong incarnation = new AtomicLong();
    private final OneAtATime heartbeats = new OneAtATime();
    private final OneAtATime rounds = new OneAtATime();
    private volatile boolean readopted;
    /** Whether the registry showed members of this node when it took them back (in any state: a gone one's members need adopting). */
    private volatile boolean foundMembers;
    private volatile boolean running;
    /** Set when this node's own spawner is about to restart it: its stop then leaves its members for the next incarnation. */
    private volatile boolean restarting;

    /** The spawn service is made on first use: inside a member, only once it is RUNNING ({@link SpawnGate}). */
    public Supervisor(ObjectProvider<SpawnService> spawners, SpawnGate gate, SpawnerProperties properties) {
        this.spawners = spawners;
        this.gate = gate;
        this.properties = properties;
    }

    /** Once the port serves: the root spawner registers, then takes its members back. */
    @EventListener(ApplicationReadyEvent.class)
    public void ready() {
        if (gate.open()) {
            registerAndReadopt();
        }
    }

    /**
     * Before this node serves a spawn or a redeem: it is open ({@link SpawnGate}) and has taken its
     * members back, so a member spawned now is not mistaken for one whose bootstrap a restart broke.
     *
     * @throws SpawnerException {@code 503 not-ready} until then
     */
    public void requireSupervising() {
        gate.require();
        if (!registerAndReadopt()) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", spawners.getObject().identity().id()
                    + " cannot reach the registry to take its members back yet; retry in a moment");
        }
    }

    /**
     * Registers the root spawner (a new incarnation of its id) and re-adopts this node's members,
     * once. A registry that is not up yet is not fatal: the supervision rounds try again.
     */
    private synchronized boolean registerAndReadopt() {
        if (readopted) {
            return true;
        }
        SpawnService spawner = spawners.getObject();
        if (!gate.isMember() && incarnation.get() == 0 && !register(spawner)) {
            return false;
        }
        try {
            readopt(spawner);
        } catch (RegistryCallException e) {
            log.warn("{} cannot list its members yet (retrying every {}): {}", spawner.identity().id(), properties.superviseInterval(),
                    e.getMessage());
            return false;
        }
        readopted = true;
        return true;
    }

    private boolean register(SpawnService spawner) {
        SpawnerIdentity identity = spawner.identity();
        RegistryClient registry = spawner.registry();
        Launcher launcher = spawner.launcher();
        try {
            long next = registry.find(identity.id()).map(i -> i.incarnation() + 1).orElse(1L);
            registry.register(new RegistrationRequest(identity.id(), "spawner", null, InstanceState.RUNNING, next, null, null,
                    Map.of("management", identity.url().toString()), Map.of("launcher", launcher.name())));
            incarnation.set(next);
            log.info("spawner {} incarnation {} registered at {}; launcher {}", identity.id(), next, identity.url(), launcher.name());
            return true;
        } catch (RegistryCallException e) {
            log.warn("spawner {} cannot register yet (retrying every {}): {}", identity.id(), properties.superviseInterval(),
                    e.getMessage());
            return false;
        }
    }

    private void readopt(SpawnService spawner) {
        Launcher launcher = spawner.launcher();
        List<ServiceInstance> members = spawner.members();
        foundMembers = !members.isEmpty();
        for (ServiceInstance instance : members) {
            switch (instance.state()) {
                case RUNNING, SUSPECT -> {
                    Optional<LaunchedMember> member = launcher.adopt(instance);
                    if (member.isPresent()) {
                        spawner.adopt(instance, member.get());
                        log.info("member {} incarnation {}: re-adopted", instance.id(), instance.incarnation());
                    } else {
                        spawner.restartIfUnchanged(instance, "it was gone when its spawner came back");
                    }
                }
                case DEAD -> spawner.restartIfUnchanged(instance, "declared DEAD by the registry: " + instance.stateReason());
                case PENDING, BOOTSTRAPPING -> {
                    // Its handshake lived in the spawner that died: start it again under its id (its process, if any, stopped first).
                    try {
                        spawner.restart(instance.id(), "its bootstrap was interrupted by a spawner restart");
                    } catch (RuntimeException e) {
                        log.warn("member {}: not restarted: {}", instance.id(), e.getMessage());
                    }
                }
                default -> { }
            }
        }
    }

    /**
     * The root spawner's heartbeat, a task of its own ({@link OneAtATime}): a supervision round that
     * restarts members must not hold it back.
     */
    @Scheduled(fixedRateString = "${fabric.spawner.supervise-interval:2s}", initialDelayString = "${fabric.spawner.supervise-interval:2s}")
    public void heartbeat() {
        heartbeats.run(() -> {
            if (!running || gate.isMember() || incarnation.get() == 0) {
                return;
            }
            try {
                heartbeat(spawners.getObject());
            } catch (RegistryCallException e) {
                log.warn("heartbeat failed: {}", e.getMessage());
            }
        });
    }

    /**
     * One round: members the registry declared DEAD are restarted; the members of a member gone for
     * good are adopted; members another node adopted are let go.
     */
    @Scheduled(fixedRateString = "${fabric.spawner.supervise-interval:2s}", initialDelayString = "${fabric.spawner.supervise-interval:2s}")
    public void supervise() {
        rounds.run(this::round);
    }

    private void round() {
        if (!running || !gate.open() || !registerAndReadopt()) {
            return;
        }
        SpawnService spawner = spawners.getObject();
        // A node with no member (most members: a queue, an agent) has nothing to compare with the registry: a member
        // becomes this node's only by this node's own doing (a spawn, a restart, an adoption), which it knows of.
        // Listing every instance every round on every member would cost the registry the square of the fabric's size.
        if (!foundMembers && !spawner.supervisedAny()) {
            return;
        }
        String self = spawner.identity().id();
        try {
            // Who watches what as of the list: a member this round adopts is this node's, though the list names its old supervisor.
            List<String> watched = spawner.live();
            List<ServiceInstance> all = spawner.registry().list(null, null, null, null).instances();
            Map<String, ServiceInstance> byId = all.stream().collect(Collectors.toMap(ServiceInstance::id, Function.identity()));
            for (ServiceInstance instance : Supervision.supervisedBy(self, all)) {
                if (instance.state() == InstanceState.DEAD) {
                    spawner.restartIfUnchanged(instance, "declared DEAD by the registry: " + instance.stateReason());
                } else if (Supervision.goneForGood(instance.state())) {
                    adoptMembersOf(spawner, instance, all, new HashSet<>());
                }
            }
            for (String id : watched) {
                ServiceInstance now = byId.get(id);
                if (now != null && !self.equals(Supervision.supervisorOf(now))) {
                    spawner.letGo(id, Supervision.supervisorOf(now));
                }
            }
        } catch (RegistryCallException e) {
            log.warn("supervision round skipped: {}", e.getMessage());
        }
    }

    /**
     * Adopts the members of {@code gone}, a member of this node gone for good. One it stops for good instead (its
     * supervisor stopped with its members) is gone for good in turn, and so are its members handled: nobody else
     * would look at them.
     */
    private static void adoptMembersOf(SpawnService spawner, ServiceInstance gone, List<ServiceInstance> all, Set<String> seen) {
        if (!seen.add(gone.id())) {
            return;
        }
        for (ServiceInstance orphan : Supervision.supervisedBy(gone.id(), all)) {
            spawner.adoptOrphan(orphan, gone).ifPresent(stopped -> adoptMembersOf(spawner, stopped, all, seen));
        }
    }

    /**
     * The root spawner's heartbeat. Nobody restarts the root spawner, so when the registry declared it
     * DEAD (a pause longer than the dead threshold, a start slower than it) it registers again as its
     * next incarnation, as a restarted process would, instead of staying DEAD and skipping every round.
     */
    private void heartbeat(SpawnService spawner) {
        String self = spawner.identity().id();
        try {
            spawner.registry().heartbeat(self, incarnation.get());
        } catch (RegistryCallException e) {
            if (e.status() != 409 || !"not-running".equals(e.reason())) {
                throw e;
            }
            log.warn("spawner {} incarnation {}: the registry refused its heartbeat ({}); registering again", self, incarnation.get(),
                    e.getMessage());
            synchronized (this) {
                if (!register(spawner)) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void start() {
        running = true;
    }

    /**
     * This member's spawner is about to stop it to start it again under its id
     * ({@code POST /management/v1/restarting}): the stop that follows is no stop for good, so it leaves
     * this member's own members running even with {@code stop-members-on-shutdown}, and its next
     * incarnation takes them back, as after a crash.
     */
    public void restarting() {
        if (!gate.isMember()) {
            throw new SpawnerException(HttpStatus.CONFLICT, "not-a-member", "this is the root spawner: no spawner restarts it");
        }
        log.info("its spawner is about to restart it under its id: its members will keep running");
        restarting = true;
    }

    /**
     * A node stopping cleanly leaves its members running (to adopt them again, or for its own
     * supervisor to adopt them), unless told otherwise: then a member's role stops acting on its
     * members' ends first (a pilot manager would otherwise replace the agents this stop ends, and
     * fail their pilots), and all are stopped at once. The root spawner records its own STOPPED; a
     * member's is recorded by its spawner.
     */
    @Override
    public void stop() {
        running = false;
        if (!readopted && incarnation.get() == 0) {
            return; // never supervised anything (a member that was not RUNNING yet)
        }
        SpawnService spawner = spawners.getObject();
        if (restarting) {
            log.info("stopping to be restarted under its id: its members keep running for its next incarnation to take back");
        } else if (properties.stopMembersOnShutdown()) {
            gate.membersStopping();
            spawner.stopAll();
        }
        long current = incarnation.get();
        if (!gate.isMember() && current > 0) {
            try {
                spawner.registry().changeState(spawner.identity().id(), current, InstanceState.STOPPED, "spawner shut down", null);
            } catch (RegistryCallException e) {
                log.warn("could not record the spawner's shutdown: {}", e.getMessage());
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
