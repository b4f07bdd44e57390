package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Profile;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the spawner's members alive: registers the spawner itself, re-adopts the members it finds
 * running after a restart (instead of spawning duplicates), restarts those the registry declares
 * DEAD, and heartbeats for the spawner.
 */
@Component
@Profile("!member")
public class Supervisor implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final RegistryClient registry;
    private final SpawnService spawner;
    private final Launcher launcher;
    private final SpawnerIdentity identity;
    private final SpawnerProperties properties;
    private final AtomicLong incarnation = new AtomicLong();
    private volatile boolean running;

    public Supervisor(RegistryClient registry, SpawnService spawner, Launcher launcher, SpawnerIdentity identity,
                      SpawnerProperties properties) {
        this.registry = registry;
        this.spawner = spawner;
        this.launcher = launcher;
        this.identity = identity;
        this.properties = properties;
    }

    /** Once the port serves: the spawner registers, then takes its members back. */
    @EventListener(ApplicationReadyEvent.class)
    public void ready() {
        registerAndReadopt();
    }

    /**
     * Registers this spawner (a new incarnation of its id) and re-adopts its members. A registry that
     * is not up yet is not fatal: the supervision rounds try again.
     */
    private synchronized boolean registerAndReadopt() {
        if (incarnation.get() > 0) {
            return true;
        }
        try {
            long next = registry.find(identity.id()).map(i -> i.incarnation() + 1).orElse(1L);
            registry.register(new RegistrationRequest(identity.id(), "spawner", null, InstanceState.RUNNING, next, null, null,
                    Map.of("management", identity.url().toString()), Map.of("launcher", launcher.name())));
            incarnation.set(next);
            log.info("spawner {} incarnation {} registered at {}; launcher {}", identity.id(), next, identity.url(), launcher.name());
        } catch (RegistryCallException e) {
            log.warn("spawner {} cannot register yet (retrying every {}): {}", identity.id(), properties.superviseInterval(),
                    e.getMessage());
            return false;
        }
        readopt();
        return true;
    }

    private void readopt() {
        for (ServiceInstance instance : spawner.members()) {
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
                    // Its handshake lived in the spawner that died: start it again under its id.
                    launcher.adopt(instance).ifPresent(m -> m.stop(properties.stopGrace()));
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

    /** Members the registry declared DEAD (missed heartbeats) are restarted; the spawner heartbeats. */
    @Scheduled(fixedDelayString = "${fabric.spawner.supervise-interval:2s}", initialDelayString = "${fabric.spawner.supervise-interval:2s}")
    public void supervise() {
        if (!running || !registerAndReadopt()) {
            return;
        }
        long current = incarnation.get();
        try {
            registry.heartbeat(identity.id(), current);
            for (ServiceInstance instance : spawner.members()) {
                if (instance.state() == InstanceState.DEAD) {
                    spawner.restartIfUnchanged(instance, "declared DEAD by the registry: " + instance.stateReason());
                }
            }
        } catch (RegistryCallException e) {
            log.warn("supervision round skipped: {}", e.getMessage());
        }
    }

    @Override
    public void start() {
        running = true;
    }

    /** A spawner stopping cleanly leaves its members running (to adopt them again), unless told otherwise. */
    @Override
    public void stop() {
        running = false;
        if (properties.stopMembersOnShutdown()) {
            spawner.stopAll();
        }
        long current = incarnation.get();
        if (current > 0) {
            try {
                registry.changeState(identity.id(), current, InstanceState.STOPPED, "spawner shut down", null);
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
