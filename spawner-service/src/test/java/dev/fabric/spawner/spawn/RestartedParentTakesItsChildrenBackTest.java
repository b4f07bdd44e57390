package dev.fabric.spawner.spawn;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceList;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.bootstrap.Bootstrapper;
import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import dev.fabric.spawner.launch.ssh.LoopbackSshd;
import dev.fabric.spawner.launch.ssh.SshLauncher;
import dev.fabric.spawner.web.SpawnerException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/**
 * ChainAcrossTheLabIT's test 4 without the lab: a parent that was killed and restarted under its id (a
 * new process, knowing nothing of its children but what the registry records) takes its children
 * back. The real supervision and restart code ({@link Supervisor}, {@link SpawnService}) and the real
 * SSH launcher's checks run against a host on loopback that can leave checks unanswered
 * ({@link LoopbackSshd}); only the launch itself and the bootstrap are stand-ins (a launch starts a
 * process that looks like the member's JVM on that host). Two processes of one member must never run
 * at once.
 */
class RestartedParentTakesItsChildrenBackTest {

    static final String PARENT = "head-1";
    /** Its own id in each test: a process of another test's member is not taken for one of this one's. */
    final String CHILD = "queue-" + java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextInt());

    @TempDir
    Path dir;

    LoopbackSshd sshd;
    SshLauncher ssh;
    final Registry registry = new Registry();
    final List<Long> launched = new CopyOnWriteArrayList<>();
    /** The processes of the member found running when a launch of it began: there must be none. */
    final List<List<Long>> runningAtLaunch = new CopyOnWriteArrayList<>();

    @BeforeEach
    void host() throws Exception {
        sshd = new LoopbackSshd(dir.resolve("sshd"));
        ssh = sshd.launcher(Duration.ofSeconds(1));
    }

    @AfterEach
    void close() throws Exception {
        closed = true;
        ssh.close();
        sshd.close();
    }

    /** The restarted parent's spawn service ({@link #restartedParent}). */
    SpawnService spawner;

    /** Once the test is over, nothing more is launched (an ending seen at the test's close would restart the member). */
    volatile boolean closed;

    @Test
    void aRunningChildWhoseFirstCheckGetsNoAnswerIsAdoptedAndNotStartedAgain() throws Exception {
        Process child = sshd.startMember(CHILD);
        registry.child(CHILD, InstanceState.RUNNING, child.pid());
        sshd.checksToLeaveUnanswered.set(1);

        Supervisor restartedParent = restartedParent();
        restartedParent.supervise();

        assertThat(LoopbackSshd.processesOf(CHILD)).as("one process of %s, the one that ran before", CHILD).containsExactly(child.pid());
        assertThat(launched).as("launches of %s", CHILD).isEmpty();
        assertThat(registry.instances.get(CHILD).incarnation()).as("%s's incarnation", CHILD).isEqualTo(3);
        assertThat(registry.instances.get(CHILD).state()).isEqualTo(InstanceState.RUNNING);
    }

    @Test
    void aChildDeclaredDeadWhoseProcessStillRunsIsStoppedBeforeItsNextIncarnationStarts() throws Exception {
        Process child = sshd.startMember(CHILD);
        registry.child(CHILD, InstanceState.DEAD, child.pid());

        restartedParent().supervise();

        assertThat(runningAtLaunch).as("processes of %s still running when its next incarnation was launched", CHILD)
                .containsExactly(List.of());
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("the old process was stopped").isTrue();
        assertThat(LoopbackSshd.processesOf(CHILD)).as("one process of %s", CHILD).containsExactlyElementsOf(launched);
        assertThat(registry.instances.get(CHILD).incarnation()).isEqualTo(4);
    }

    @Test
    void aChildWhoseHostDoesNotConfirmItsOldProcessGoneIsRestartedOnlyOnceItDoes() throws Exception {
        Process child = sshd.startMember(CHILD);
        registry.child(CHILD, InstanceState.DEAD, child.pid());
        // The re-adoption and the round after it both try; the host answers neither.
        sshd.stopsToLeaveUnanswered.set(2);

        Supervisor restartedParent = restartedParent();
        restartedParent.supervise();

        assertThat(launched).as("no incarnation started while the old one may run").isEmpty();
        assertThat(LoopbackSshd.processesOf(CHILD)).containsExactly(child.pid());
        assertThat(registry.instances.get(CHILD).state()).as("left DEAD for a later round").isEqualTo(InstanceState.DEAD);
        assertThat(registry.instances.get(CHILD).incarnation()).isEqualTo(3);

        // The next round, the host answers: the old process is stopped, then the next incarnation starts.
        restartedParent.supervise();

        assertThat(runningAtLaunch).containsExactly(List.of());
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(LoopbackSshd.processesOf(CHILD)).containsExactlyElementsOf(launched);
        assertThat(registry.instances.get(CHILD).incarnation()).isEqualTo(4);
    }

    @Test
    void aRestartAskedForWhileTheOldProcessCannotBeConfirmedGoneIsRefusedAndStartsNothing() throws Exception {
        Process child = sshd.startMember(CHILD);
        registry.child(CHILD, InstanceState.RUNNING, child.pid());
        restartedParent().supervise();
        // The host stops answering: neither the stop of the old process nor the check that it is gone gets through.
        sshd.stopsToLeaveUnanswered.set(Integer.MAX_VALUE);

        assertThatThrownBy(() -> spawner.restart(CHILD, "a caller asked"))
                .isInstanceOfSatisfying(SpawnerException.class, refused -> {
                    assertThat(refused.status()).isEqualTo(503);
                    assertThat(refused.reason()).isEqualTo("old-incarnation-may-run");
                    assertThat(refused.detail()).contains(CHILD, "incarnation 3 may still run", "retry once its host answers");
                });

        assertThat(launched).as("no incarnation started while the old one may run").isEmpty();
        assertThat(LoopbackSshd.processesOf(CHILD)).containsExactly(child.pid());
        assertThat(registry.instances.get(CHILD).incarnation()).isEqualTo(3);
        sshd.stopsToLeaveUnanswered.set(0);
    }

    @Test
    void aNodeWithoutMembersLeavesTheRegistryAloneInItsRoundsUntilItSpawnsOne() throws Exception {
        registry.memberOf("spawner-2", "queue-of-another-node", InstanceState.RUNNING, ProcessHandle.current().pid());

        Supervisor node = restartedParent();
        node.supervise();
        node.supervise();
        node.supervise();

        // Taking its members back lists the registry once; a round with nothing to compare asks it nothing.
        verify(registry.client, times(1)).list(any(), any(), any(), any());

        String spawned = spawner.spawn(new SpawnRequest("queue", null, null, null, null)).id();
        try {
            node.supervise();
            verify(registry.client, times(2)).list(any(), any(), any(), any());
        } finally {
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.instances.get(spawned).state() == InstanceState.RUNNING);
            spawner.stop(spawned);
        }
    }

    @Test
    void aNodeWhoseOnlyMemberEndedForGoodStillAdoptsThatMembersRunningMember() throws Exception {
        String gone = "queue-gone-" + java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextInt());
        registry.child(gone, InstanceState.STOPPED, ProcessHandle.current().pid());
        Process orphan = sshd.startMember(CHILD);
        registry.memberOf(gone, CHILD, InstanceState.RUNNING, orphan.pid());

        restartedParent().supervise();

        assertThat(registry.instances.get(CHILD).metadata()).as("%s's supervisor now", CHILD).containsEntry(Supervision.SUPERVISOR, PARENT);
        assertThat(launched).as("adopted as it runs, not started again").isEmpty();
        assertThat(LoopbackSshd.processesOf(CHILD)).containsExactly(orphan.pid());
    }

    /** The parent's node as its restart makes it: nothing in memory, everything from the registry. */
    Supervisor restartedParent() {
        SpawnerProperties properties = new SpawnerProperties(PARENT, Path.of("unused"), "", "", "ssh", List.of("queue"),
                Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(5), 5, Duration.ofMinutes(5), Duration.ofSeconds(2),
                false, new SpawnerProperties.Process("", "", List.of(), 0));
        Members members = new Members(properties);
        FabricKeys keys = FabricKeys.generate();
        Bootstrapper bootstrapper = new Bootstrapper(new OneTimePasswords(Clock.systemUTC()), keys, registry.client,
                FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(5)).build(),
                members, properties) {
            @Override
            public ServiceInstance complete(ManagedMember owner, LaunchedMember member, Connectivity connectivity, String role,
                                            Map<String, String> config, boolean restart, Instant deadline) {
                owner.handshake(member.incarnation()).ifPresent(owner::endHandshake);
                return registry.client.changeState(member.serviceId(), member.incarnation(), InstanceState.RUNNING, "bootstrapped", null);
            }
        };
        spawner = new SpawnService(new HostLauncher(), bootstrapper, members, registry.client, properties,
                new SpawnerIdentity(PARENT, URI.create("http://127.0.0.1:9")), new SimpleMeterRegistry(), null);
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("spawnService", spawner);
        Supervisor supervisor = new Supervisor(beans.getBeanProvider(SpawnService.class),
                new SpawnGate(beans.getBeanProvider(SpawningNode.class)), properties);
        supervisor.start();
        return supervisor;
    }

    /**
     * The SSH launcher's checks, stops and adoption as they are; a launch starts a process on the loopback
     * host that looks like the member's JVM, as the real start command would.
     */
    final class HostLauncher implements Launcher {

        @Override
        public String name() {
            return "ssh";
        }

        @Override
        public LaunchedMember launch(LaunchSpec spec) {
            if (closed) {
                throw new dev.fabric.spawner.launch.LaunchException("the test is over");
            }
            runningAtLaunch.add(LoopbackSshd.processesOf(spec.serviceId()));
            try {
                Process process = sshd.startMember(spec.serviceId());
                launched.add(process.pid());
                return new Started(spec.serviceId(), spec.incarnation(), process);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Optional<LaunchedMember> adopt(ServiceInstance instance) {
            return ssh.adopt(instance);
        }

        @Override
        public Optional<String> ensureGone(ServiceInstance instance, Duration grace) {
            return ssh.ensureGone(instance, grace);
        }

        @Override
        public Optional<String> unreachable(ServiceInstance instance) {
            return ssh.unreachable(instance);
        }

        @Override
        public java.util.Set<String> hosts() {
            return ssh.hosts();
        }
    }

    record Started(String serviceId, long incarnation, Process process) implements LaunchedMember {
        @Override
        public Map<String, String> metadata() {
            return Map.of("launcher", "ssh", "host", LoopbackSshd.HOST, "pid", Long.toString(process.pid()),
                    "log", "/nowhere/members/" + serviceId + "/member.log");
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
        }
    }

    /** The registry, in memory: what the spawner's calls need of it. */
    static final class Registry {
        final Map<String, ServiceInstance> instances = new ConcurrentHashMap<>();
        final RegistryClient client = mock(RegistryClient.class);

        Registry() {
            when(client.baseUrl()).thenReturn(URI.create("http://127.0.0.1:9"));
            when(client.find(anyString())).thenAnswer(call -> Optional.ofNullable(instances.get(call.<String>getArgument(0))));
            when(client.get(anyString())).thenAnswer(call -> get(call.getArgument(0)));
            when(client.list(any(), any(), any(), any())).thenAnswer(call -> new InstanceList(1, new ArrayList<>(instances.values())));
            when(client.register(any())).thenAnswer(call -> register(call.getArgument(0)));
            when(client.changeState(anyString(), anyLong(), any(), any(), any())).thenAnswer(call -> changeState(call.getArgument(0),
                    call.getArgument(1), call.getArgument(2), call.getArgument(3)));
            when(client.report(anyString(), any())).thenAnswer(call -> get(call.getArgument(0)));
        }

        void child(String id, InstanceState state, long pid) {
            memberOf(PARENT, id, state, pid);
        }

        void memberOf(String parent, String id, InstanceState state, long pid) {
            Instant now = Instant.now();
            instances.put(id, new ServiceInstance(id, "queue", id, state, "registered " + state, 3, parent, Connectivity.DIRECT,
                    Map.of(), Map.of("launcher", "ssh", "host", LoopbackSshd.HOST, "pid", Long.toString(pid),
                    "log", "/nowhere/members/" + id + "/member.log"), now, now, now));
        }

        ServiceInstance get(String id) {
            ServiceInstance instance = instances.get(id);
            if (instance == null) {
                throw new RegistryCallException(404, "unknown-instance", "no " + id, null);
            }
            return instance;
        }

        synchronized ServiceInstance register(RegistrationRequest request) {
            ServiceInstance old = instances.get(request.id());
            Map<String, String> metadata = new LinkedHashMap<>(old == null || old.metadata() == null ? Map.of() : old.metadata());
            if (request.metadata() != null) {
                metadata.putAll(request.metadata());
            }
            Instant now = Instant.now();
            ServiceInstance instance = new ServiceInstance(request.id(), request.type(), request.name(), request.state(),
                    "registered " + request.state(), request.incarnation() == null ? 1 : request.incarnation(), request.parentId(),
                    request.connectivity(), request.endpoints() == null ? Map.of() : request.endpoints(), metadata, now, now, now);
            instances.put(request.id(), instance);
            return instance;
        }

        synchronized ServiceInstance changeState(String id, long incarnation, InstanceState state, String reason) {
            ServiceInstance old = get(id);
            if (old.incarnation() != incarnation) {
                throw new RegistryCallException(409, "stale-incarnation", id + " is at " + old.incarnation(), null);
            }
            ServiceInstance instance = new ServiceInstance(id, old.type(), old.name(), state, reason, incarnation, old.parentId(),
                    old.connectivity(), old.endpoints(), old.metadata(), old.registeredAt(), Instant.now(), old.lastHeartbeatAt());
            instances.put(id, instance);
            return instance;
        }
    }
}
