package dev.fabric.spawner.spawn;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.bootstrap.Bootstrapper;
import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A member registers RUNNING while it handles its spawner's configuration call ({@code PUT
 * /management/v1/role}, step 4b) and answers after. When it dies in between (kill -9, a crash, an
 * OOM), it reached RUNNING and then died: the spawner must restart it under its id, as any dead
 * member, not mark it FAILED for a failed bootstrap. A member that dies before it registered
 * RUNNING still fails its bootstrap, naming the role and the cause.
 *
 * <p>The spawner's side is the real one ({@link SpawnService}, {@link Bootstrapper}, the registry
 * client, signed HTTP to the member); the member is a small HTTP server that redeems its password,
 * answers the setup check and dies on cue; the registry is {@link LoopbackRegistry}.
 */
class MemberDiesDuringItsConfigurationTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** What a member does with its configuration call. */
    enum OnConfigure {
        /** Registers RUNNING, then answers: a healthy member. */
        ANSWER,
        /** Killed before it registered RUNNING: the call ends in a broken connection. */
        KILLED_BEFORE_RUNNING,
        /** Registers RUNNING, then is killed before it answered: the call ends in a broken connection. */
        KILLED_AFTER_RUNNING,
        /**
         * Killed while its RUNNING registration is on its way: the call ends in a broken connection,
         * and the registry records RUNNING only after the spawner found the call broken.
         */
        KILLED_WHILE_REGISTERING,
        /**
         * Registers RUNNING, answers, and is killed: the launcher reports the death before the
         * spawner has read the answer (the order the spawner may see them in).
         */
        KILLED_AS_IT_ANSWERS
    }

    @TempDir
    Path dir;

    final FabricKeys keys = FabricKeys.generate();
    final TestLauncher launcher = new TestLauncher();
    LoopbackRegistry registry;
    Members members;
    Bootstrapper bootstrapper;
    SpawnService spawner;

    SpawnerProperties properties() {
        return new SpawnerProperties("spawner-test", dir, "", "", "test", List.of("queue"), Duration.ofSeconds(60),
                Duration.ofSeconds(60), Duration.ofSeconds(1), 5, Duration.ofMinutes(5), Duration.ofSeconds(2), false,
                new SpawnerProperties.Process("", "", List.of(), 0));
    }

    @BeforeEach
    void start() throws IOException {
        registry = new LoopbackRegistry();
        RegistryClient client = new RegistryClient(registry.url(), keys, Duration.ofSeconds(5));
        SpawnerProperties properties = properties();
        members = new Members(properties);
        bootstrapper = new Bootstrapper(new OneTimePasswords(Clock.systemUTC()), keys, client,
                FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(10)).build(), members, properties);
        spawner = new SpawnService(launcher, bootstrapper, members, client, properties,
                new SpawnerIdentity("spawner-test", URI.create("http://127.0.0.1:1")), new SimpleMeterRegistry(), null);
    }

    @AfterEach
    void stop() {
        spawner.stopAll();
        launcher.launched.forEach(member -> member.stop(Duration.ZERO));
        registry.close();
    }

    String spawnQueue() {
        return spawner.spawn(new SpawnRequest("queue", null, null, null, null)).id();
    }

    ServiceInstance awaitRunning(String id, long incarnation) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> registry.find(id).orElseThrow(),
                instance -> instance.incarnation() == incarnation && instance.state() == InstanceState.RUNNING);
    }

    /** Incarnation 1 reached RUNNING, died, was recorded DEAD (never FAILED), and incarnation 2 recovered its state. */
    void assertRestartedAfterItDied(String id) {
        List<LoopbackRegistry.Step> first = registry.steps(id).stream().filter(s -> s.incarnation() == 1).toList();
        assertThat(first).contains(new LoopbackRegistry.Step(id, 1, InstanceState.RUNNING, "registered"),
                new LoopbackRegistry.Step(id, 1, InstanceState.DEAD, "its process killed by signal 9"));
        assertThat(first).extracting(LoopbackRegistry.Step::state).doesNotContain(InstanceState.FAILED);
        assertThat(registry.steps(id)).anySatisfy(step -> {
            assertThat(step.incarnation()).isEqualTo(2);
            assertThat(step.reason()).contains("its previous incarnation killed by signal 9");
        });
        assertThat(launcher.launched).extracting(TestMember::incarnation).containsExactly(1L, 2L);
        assertThat(launcher.launched.get(1).configured).singleElement()
                .isEqualTo(new BootstrapWire.Configure("queue", Map.of(), true));
    }

    @Test
    void aMemberKilledAfterItRegisteredRunningButBeforeItAnsweredItsConfigurationIsRestartedUnderItsId() {
        launcher.next.add(OnConfigure.KILLED_AFTER_RUNNING);
        String id = spawnQueue();

        ServiceInstance restarted = awaitRunning(id, 2);

        assertThat(restarted.id()).isEqualTo(id);
        assertRestartedAfterItDied(id);
    }

    @Test
    void aMemberKilledAsItAnswersItsConfigurationIsRestartedUnderItsId() {
        launcher.next.add(OnConfigure.KILLED_AS_IT_ANSWERS);
        String id = spawnQueue();

        ServiceInstance restarted = awaitRunning(id, 2);

        assertThat(restarted.id()).isEqualTo(id);
        assertRestartedAfterItDied(id);
    }

    @Test
    void aMemberKilledWhileItsRunningRegistrationWasOnItsWayIsRestartedUnderItsId() {
        launcher.next.add(OnConfigure.KILLED_WHILE_REGISTERING);
        String id = spawnQueue();

        ServiceInstance restarted = awaitRunning(id, 2);

        assertThat(restarted.id()).isEqualTo(id);
        assertRestartedAfterItDied(id);
    }

    @Test
    void aMemberKilledBeforeItRegisteredRunningFailsItsBootstrapNamingTheRoleAndTheCause() {
        launcher.next.add(OnConfigure.KILLED_BEFORE_RUNNING);
        String id = spawnQueue();

        ServiceInstance failed = await().atMost(Duration.ofSeconds(30)).until(() -> registry.find(id).orElseThrow(),
                instance -> instance.state() == InstanceState.FAILED);

        assertThat(failed.incarnation()).isEqualTo(1);
        assertThat(failed.stateReason()).startsWith("bootstrap failed: configuring role queue failed: cannot reach http://127.0.0.1:");
        assertThat(registry.steps(id)).extracting(LoopbackRegistry.Step::state).doesNotContain(InstanceState.RUNNING);
        assertThat(launcher.launched).hasSize(1);
    }

    @Test
    void aHealthyMemberIsRunningAfterOneLaunch() {
        String id = spawnQueue();

        awaitRunning(id, 1);

        assertThat(launcher.launched).singleElement().satisfies(member -> {
            assertThat(member.configured).containsExactly(new BootstrapWire.Configure("queue", Map.of(), false));
            assertThat(member.outcome().isDone()).isFalse();
        });
    }

    /** Launches {@link TestMember}s, each doing the next of {@link #next} with its configuration (then {@code ANSWER}). */
    final class TestLauncher implements Launcher {

        final Queue<OnConfigure> next = new ConcurrentLinkedQueue<>();
        final List<TestMember> launched = new CopyOnWriteArrayList<>();

        @Override
        public String name() {
            return "test";
        }

        @Override
        public LaunchedMember launch(LaunchSpec spec) {
            OnConfigure onConfigure = Optional.ofNullable(next.poll()).orElse(OnConfigure.ANSWER);
            TestMember member = new TestMember(spec, onConfigure);
            launched.add(member);
            member.start();
            return member;
        }

        @Override
        public Optional<LaunchedMember> adopt(ServiceInstance instance) {
            return Optional.empty();
        }
    }

    /**
     * A member's bootstrap as MemberBootstrap and MemberNode do it, over real HTTP: it redeems its
     * password, proves its status with its bootstrap key, and on its configuration registers
     * RUNNING before it answers. Its "process" ends when it is killed or stopped.
     */
    final class TestMember implements LaunchedMember {

        final LaunchSpec spec;
        final OnConfigure onConfigure;
        final KeyPair bootstrapKey = Ed25519.generate();
        final CompletableFuture<LaunchOutcome> outcome = new CompletableFuture<>();
        final List<BootstrapWire.Configure> configured = new CopyOnWriteArrayList<>();
        HttpServer server;
        URI url;

        TestMember(LaunchSpec spec, OnConfigure onConfigure) {
            this.spec = spec;
            this.onConfigure = onConfigure;
        }

        void start() {
            try {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/management/v1/status", this::status);
            server.createContext("/management/v1/role", this::configure);
            server.start();
            url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
            // Step 3, as the member's JVM would once started: after the spawner has recorded the launch.
            Thread.ofVirtual().start(() -> bootstrapper.redeem(new BootstrapWire.Redeem(spec.serviceId(), spec.incarnation(),
                    spec.otp().reveal(), Base64.getEncoder().encodeToString(KeySealing.newEphemeralKeyPair().getPublic().getEncoded()),
                    url.toString(), BootstrapProofs.encode(bootstrapKey.getPublic()))));
        }

        private void status(HttpExchange exchange) throws IOException {
            String challenge = exchange.getRequestURI().getQuery().substring("challenge=".length());
            answer(exchange, 200, JSON.writeValueAsString(new BootstrapWire.Status(spec.serviceId(), spec.incarnation(), spec.role(),
                    "AWAITING_CONFIGURATION", keys.keyId(), Map.of(),
                    BootstrapProofs.statusProof(bootstrapKey.getPrivate(), spec.serviceId(), spec.incarnation(), keys.keyId(), challenge))));
        }

        private void configure(HttpExchange exchange) throws IOException {
            configured.add(JSON.readValue(exchange.getRequestBody().readAllBytes(), BootstrapWire.Configure.class));
            switch (onConfigure) {
                case KILLED_BEFORE_RUNNING -> killed(false);
                case KILLED_WHILE_REGISTERING -> killed(true);
                case KILLED_AFTER_RUNNING -> {
                    registerRunning();
                    killed(false);
                }
                case KILLED_AS_IT_ANSWERS -> {
                    registerRunning();
                    outcome.complete(new LaunchOutcome.Killed(9, null));
                    answer(exchange, 204, null);
                    server.stop(0);
                }
                case ANSWER -> {
                    registerRunning();
                    answer(exchange, 204, null);
                }
            }
        }

        /** Step 5, as MemberNode does it. */
        private void registerRunning() {
            registry.register(new RegistrationRequest(spec.serviceId(), spec.role(), null, InstanceState.RUNNING, spec.incarnation(),
                    null, spec.connectivity(), Map.of("management", url.toString()), Map.of()));
        }

        /**
         * kill -9: its connections break, so the call it was handling goes unanswered, and its
         * launcher sees it end a moment later (the process launcher notices an exit within tens of
         * milliseconds): here once the spawner's handshake with it is over, which its broken call ends.
         *
         * @param registering whether its RUNNING registration reaches the registry then, just before its end is seen
         */
        private void killed(boolean registering) {
            Thread.ofVirtual().start(() -> {
                server.stop(0);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                        .until(() -> members.of(spec.serviceId()).handshake(spec.incarnation()).isEmpty());
                if (registering) {
                    registerRunning();
                }
                outcome.complete(new LaunchOutcome.Killed(9, null));
            });
        }

        private static void answer(HttpExchange exchange, int status, String json) throws IOException {
            try (exchange) {
                if (json == null) {
                    exchange.sendResponseHeaders(status, -1);
                    return;
                }
                byte[] body = json.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(status, body.length);
                exchange.getResponseBody().write(body);
            }
        }

        @Override
        public String serviceId() {
            return spec.serviceId();
        }

        @Override
        public long incarnation() {
            return spec.incarnation();
        }

        @Override
        public Map<String, String> metadata() {
            return Map.of("launcher", "test");
        }

        @Override
        public Optional<URI> managementUrl() {
            return Optional.of(url);
        }

        @Override
        public CompletableFuture<LaunchOutcome> outcome() {
            return outcome;
        }

        @Override
        public void stop(Duration grace) {
            server.stop(0);
            outcome.complete(new LaunchOutcome.Stopped());
        }
    }
}
