package dev.fabric.spawner.member;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.role.Role;
import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.RolePolicy;
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
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a member says of itself while its RUNNING registration is on its way to the registry (step
 * 5): a caller that learns from the registry that it runs (a watch, a list) and asks it at once must
 * find it RUNNING, not AWAITING_CONFIGURATION; and nothing that needs the registration (a
 * heartbeat, CONNECT) goes out before the registry has it. The member is the real {@link MemberNode};
 * the registry is a small HTTP server that looks at the member while it handles the registration.
 */
class MemberNodeRegistrationTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** The member as the registry found it while its RUNNING registration was being handled. */
    record Seen(String phase, boolean registeredRunning, boolean bootstrapOver) {}

    @TempDir
    Path dir;

    final FabricKeys keys = FabricKeys.generate();
    final List<Seen> seenWhileRegistering = new CopyOnWriteArrayList<>();
    final List<String> otherCalls = new CopyOnWriteArrayList<>();
    HttpServer registry;
    MemberNode node;

    @BeforeEach
    void start() throws IOException {
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        registry.createContext("/", this::handle);
        registry.start();
        URI registryUrl = URI.create("http://127.0.0.1:" + registry.getAddress().getPort());
        MemberSettings settings = new MemberSettings("queue-1", 1, "queue", URI.create("http://127.0.0.1:1"), "spawner-1", registryUrl,
                Connectivity.DIRECT, OneTimePassword.of("not-used-here"), dir, "127.0.0.1", null, null);
        node = new MemberNode(settings, new MemberKeys(), List.of(new IdleRole()), 1, null);
        var sealed = KeySealing.seal(keys, KeySealing.publicKeyFromSpki(Base64.getDecoder().decode(node.publicKey())), "queue-1");
        assertThat(node.deliver(sealed.encode(), keys.keyId(), registryUrl)).isTrue();
    }

    @AfterEach
    void stop() {
        registry.stop(0);
    }

    @Test
    void whileItsRunningRegistrationIsOnItsWayTheMemberAlreadySaysItIsRunning() {
        BootstrapWire.Status answer = node.configure(new BootstrapWire.Configure("queue", Map.of(), false));

        assertThat(seenWhileRegistering).extracting(Seen::phase).containsExactly("RUNNING");
        assertThat(answer.phase()).isEqualTo("RUNNING");
    }

    @Test
    void nothingThatNeedsTheRegistrationGoesOutBeforeTheRegistryHasIt() {
        node.configure(new BootstrapWire.Configure("queue", Map.of(), false));

        assertThat(seenWhileRegistering).singleElement().satisfies(seen -> {
            assertThat(seen.registeredRunning()).as("CONNECT answered, heartbeats sent").isFalse();
            assertThat(seen.bootstrapOver()).as("a dropped bootstrap connection no longer matters").isFalse();
        });
        assertThat(otherCalls).as("heartbeats tried while the registration was on its way").isEmpty();
        assertThat(node.registeredRunning()).isTrue();
        assertThat(node.bootstrapOver()).isTrue();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("POST") || !exchange.getRequestURI().getPath().equals("/api/v1/instances")) {
                otherCalls.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
                exchange.sendResponseHeaders(500, -1);
                return;
            }
            RegistrationRequest request = JSON.readValue(exchange.getRequestBody().readAllBytes(), RegistrationRequest.class);
            seenWhileRegistering.add(new Seen(node.status().phase(), node.registeredRunning(), node.bootstrapOver()));
            // A heartbeat due now (its schedule does not wait for the registration) must not go out yet.
            node.heartbeat();
            Instant now = Instant.now();
            byte[] body = JSON.writeValueAsString(new ServiceInstance(request.id(), request.type(), request.name(), request.state(),
                    "registered", request.incarnation(), null, request.connectivity(), request.endpoints(), request.metadata(), now, now,
                    now)).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    /** A role that starts and serves nothing: what is under test is the member's life around it. */
    static final class IdleRole implements Role {

        @Override
        public String name() {
            return "queue";
        }

        @Override
        public RolePolicy policy() {
            return new RolePolicy(true);
        }

        @Override
        public void recover(RoleContext context) {
        }

        @Override
        public void start(RoleContext context) {
        }

        @Override
        public void stop() {
        }

        @Override
        public Map<String, Object> status() {
            return Map.of();
        }

        @Override
        public Map<String, String> endpoints() {
            return Map.of("queue", "/queue/v1");
        }
    }
}
