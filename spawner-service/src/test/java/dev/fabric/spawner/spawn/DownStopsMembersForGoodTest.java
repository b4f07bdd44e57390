package dev.fabric.spawner.spawn;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.bootstrap.Bootstrapper;
import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./fabric down}, then {@code ./fabric up} again (docs/tasks.md): a pilot manager that stops its own members at
 * shutdown ({@code stop-members-on-shutdown}, which {@code ./fabric up} sets) had only its spawner's stop grace to do it
 * in, the same grace it gave each of its members. An agent that took its whole grace to stop outlived the manager,
 * which its spawner killed and recorded STOPPED: the agent was left DEAD (or running), and the next {@code up} adopted
 * it as the member of a supervisor gone for good and restarted it, for a pilot nobody manages any more.
 *
 * <p>The real supervision, adoption and stop code ({@link Supervisor}, {@link SpawnService}, {@link Supervision}) on a
 * registry on loopback ({@link LoopbackRegistry}, with the registry's rules for state changes); the launcher runs
 * {@code sleep} for a member's process, and the bootstrap is a stand-in.
 */
class DownStopsMembersForGoodTest {

    static final String SPAWNER = "spawner-1";
    static final String MANAGER = "pilot-manager-1a2b3c4d";
    static final String AGENT = "agent-5e6f7a8b";
    static final String QUEUE = "queue-9c0d1e2f";
    /** A member of the agent's own, which nobody else would look at once the agent is stopped. */
    static final String AGENTS_PUBSUB = "pubsub-3a4b5c6d";

    @TempDir
    Path dir;

    final FabricKeys keys = FabricKeys.generate();
    final SleepLauncher launcher = new SleepLauncher();
    LoopbackRegistry registry;
    RegistryClient client;
    SpawnService spawner;

    @BeforeEach
    void registry() throws IOException {
        registry = new LoopbackRegistry();
        client = new RegistryClient(registry.url(), keys, Duration.ofSeconds(5));
    }

    @AfterEach
    void close() {
        launcher.closed = true;
        launcher.processes.forEach(Process::destroyForcibly);
        registry.close();
    }

    @Test
    void theMembersOfAManagerStoppedWithItsMembersAreStoppedAtTheNextUpNotRestarted() throws Exception {
        // As the last down left them: the manager recorded STOPPED by its spawner, which killed it before it had
        // recorded its agent STOPPED (the agent DEAD) and before its queue's process had ended.
        Process leftover = launcher.leftover(QUEUE);
        register(MANAGER, "pilot-manager", InstanceState.STOPPED, SPAWNER, Map.of());
        register(AGENT, "agent", InstanceState.DEAD, MANAGER, Map.of("pid", "999999999"));
        register(QUEUE, "queue", InstanceState.RUNNING, MANAGER, Map.of("pid", Long.toString(leftover.pid())));
        register(AGENTS_PUBSUB, "pubsub", InstanceState.DEAD, AGENT, Map.of("pid", "999999998"));

        Supervisor upAgain = node(true);
        upAgain.supervise();

        assertThat(launcher.launched).as("members started again").isEmpty();
        assertThat(registry.find(AGENT).orElseThrow().state()).as("%s", registry.steps(AGENT)).isEqualTo(InstanceState.STOPPED);
        assertThat(registry.find(AGENT).orElseThrow().stateReason()).contains("stopped with its supervisor " + MANAGER);
        assertThat(registry.find(QUEUE).orElseThrow().state()).as("%s", registry.steps(QUEUE)).isEqualTo(InstanceState.STOPPED);
        assertThat(leftover.waitFor(30, TimeUnit.SECONDS)).as("the queue's leftover process is stopped").isTrue();
        assertThat(registry.find(AGENTS_PUBSUB).orElseThrow().state()).as("%s", registry.steps(AGENTS_PUBSUB))
                .isEqualTo(InstanceState.STOPPED);

        // Stopped for good: later rounds leave them so.
        upAgain.supervise();
        assertThat(launcher.launched).isEmpty();
        assertThat(registry.find(AGENT).orElseThrow().incarnation()).isEqualTo(1);
    }

    @Test
    void aDeadMemberOfAManagerThatFailedIsStillRestartedByItsAdopter() throws Exception {
        // A FAILED supervisor did not stop its members: they are the adopter's to keep alive (docs/spawner.md, Adoption).
        register(MANAGER, "pilot-manager", InstanceState.FAILED, SPAWNER, Map.of());
        register(AGENT, "agent", InstanceState.DEAD, MANAGER, Map.of("pid", "999999999"));

        node(true).supervise();

        assertThat(launcher.launched).as("the agent's next incarnation").hasSize(1);
        assertThat(registry.find(AGENT).orElseThrow().incarnation()).isEqualTo(2);
        // Adopted in this round, it is this node's now: the round's look at who supervises whom, taken before, does not let it go.
        assertThat(spawner.live()).as("members this node watches").contains(AGENT);
    }

    @Test
    void whereMembersOutliveTheirNodeADeadMemberOfAStoppedOneIsRestartedByItsAdopter() throws Exception {
        // Without stop-members-on-shutdown a stopped member leaves its members running for its own supervisor to adopt.
        register(MANAGER, "pilot-manager", InstanceState.STOPPED, SPAWNER, Map.of());
        register(AGENT, "agent", InstanceState.DEAD, MANAGER, Map.of("pid", "999999999"));

        node(false).supervise();

        assertThat(launcher.launched).as("the agent's next incarnation").hasSize(1);
        assertThat(registry.find(AGENT).orElseThrow().incarnation()).isEqualTo(2);
    }

    @Test
    void aSpawnerShuttingDownGivesAMemberThatStopsItsOwnMembersTheirGraceOnTopOfItsOwn() throws Exception {
        // The manager stops its agent within the grace when it stops; its spawner must give it longer than that.
        register(MANAGER, "pilot-manager", InstanceState.RUNNING, SPAWNER, Map.of());
        register(AGENT, "agent", InstanceState.RUNNING, MANAGER, Map.of());
        register(QUEUE, "queue", InstanceState.RUNNING, SPAWNER, Map.of());
        node(true);
        Map<String, Duration> graces = new ConcurrentHashMap<>();
        for (String id : List.of(MANAGER, QUEUE)) {
            spawner.adopt(registry.find(id).orElseThrow(), new Stoppable(id, graces));
        }

        spawner.stopAll();

        assertThat(graces).containsExactlyInAnyOrderEntriesOf(Map.of(MANAGER, Duration.ofSeconds(10), QUEUE, Duration.ofSeconds(5)));
        assertThat(registry.find(MANAGER).orElseThrow().state()).isEqualTo(InstanceState.STOPPED);
    }

    void register(String id, String type, InstanceState state, String parent, Map<String, String> metadata) {
        client.register(new RegistrationRequest(id, type, id, state, 1L, parent, Connectivity.DIRECT, Map.of(), metadata));
    }

    /** The root spawner as {@code ./fabric up} starts it again: nothing in memory, everything from the registry. */
    Supervisor node(boolean stopMembersOnShutdown) {
        SpawnerProperties properties = new SpawnerProperties(SPAWNER, dir, "", "", "process", List.of("queue", "agent", "pilot-manager"),
                Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(5), 5, Duration.ofMinutes(5), Duration.ofSeconds(2),
                stopMembersOnShutdown, new SpawnerProperties.Process("", "", List.of(), 0));
        Members members = new Members(properties);
        Bootstrapper bootstrapper = new Bootstrapper(new OneTimePasswords(Clock.systemUTC()), keys, client,
                FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(5)).build(), members, properties) {
            @Override
            public ServiceInstance complete(ManagedMember owner, LaunchedMember member, Connectivity connectivity, String role,
                                            Map<String, String> config, boolean restart, Instant deadline) {
                owner.handshake(member.incarnation()).ifPresent(owner::endHandshake);
                return client.changeState(member.serviceId(), member.incarnation(), InstanceState.RUNNING, "bootstrapped", null);
            }
        };
        spawner = new SpawnService(launcher, bootstrapper, members, client, properties,
                new SpawnerIdentity(SPAWNER, URI.create("http://127.0.0.1:9")), new SimpleMeterRegistry(), null);
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("spawnService", spawner);
        Supervisor supervisor = new Supervisor(beans.getBeanProvider(SpawnService.class),
                new SpawnGate(beans.getBeanProvider(SpawningNode.class)), properties);
        supervisor.start();
        return supervisor;
    }

    /** Runs {@code sleep} for a member's process; adopts the leftovers it was told of. */
    static final class SleepLauncher implements Launcher {
        final List<Process> processes = new CopyOnWriteArrayList<>();
        final List<String> launched = new CopyOnWriteArrayList<>();
        final Map<String, Process> leftovers = new ConcurrentHashMap<>();
        volatile boolean closed;

        Process leftover(String id) throws IOException {
            Process process = sleep();
            leftovers.put(id, process);
            return process;
        }

        private Process sleep() throws IOException {
            Process process = new ProcessBuilder("sleep", "300").start();
            processes.add(process);
            return process;
        }

        @Override
        public String name() {
            return "process";
        }

        @Override
        public LaunchedMember launch(LaunchSpec spec) {
            if (closed) {
                throw new dev.fabric.spawner.launch.LaunchException("the test is over");
            }
            launched.add(spec.serviceId());
            try {
                return new Running(spec.serviceId(), spec.incarnation(), sleep());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Optional<LaunchedMember> adopt(ServiceInstance instance) {
            return Optional.ofNullable(leftovers.get(instance.id())).filter(Process::isAlive)
                    .map(process -> new Running(instance.id(), instance.incarnation(), process));
        }
    }

    record Running(String serviceId, long incarnation, Process process) implements LaunchedMember {
        @Override
        public Map<String, String> metadata() {
            return Map.of("launcher", "process", "pid", Long.toString(process.pid()));
        }

        @Override
        public Optional<URI> managementUrl() {
            return Optional.empty();
        }

        @Override
        public CompletableFuture<LaunchOutcome> outcome() {
            return process.onExit().thenApply(p -> new LaunchOutcome.Exited(p.exitValue()));
        }

        @Override
        public void stop(Duration grace) {
            process.destroy();
            process.onExit().join();
        }
    }

    /** A member's process that only records the grace its stop was given. */
    record Stoppable(String serviceId, Map<String, Duration> graces, CompletableFuture<LaunchOutcome> ended) implements LaunchedMember {
        Stoppable(String serviceId, Map<String, Duration> graces) {
            this(serviceId, graces, new CompletableFuture<>());
        }

        @Override
        public long incarnation() {
            return 1;
        }

        @Override
        public Map<String, String> metadata() {
            return Map.of("launcher", "process");
        }

        @Override
        public Optional<URI> managementUrl() {
            return Optional.empty();
        }

        @Override
        public CompletableFuture<LaunchOutcome> outcome() {
            return ended;
        }

        @Override
        public void stop(Duration grace) {
            graces.put(serviceId, grace);
            ended.complete(new LaunchOutcome.Stopped());
        }
    }
}
