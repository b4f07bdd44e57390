package dev.fabric.spawner.bootstrap;

import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.spawn.Members;
import dev.fabric.spawner.spawn.SpawnerProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Another process answering on a member's port (it bound the port first, or echoes what it sees)
 * gets nothing secret from the spawner, and the bootstrap fails saying so. The spawner's side runs
 * for real against a real socket; the impostor is a small HTTP server.
 */
class BootstrapImpostorTest {

    static final String ID = "queue-impostor";
    static final JsonMapper JSON = JsonMapper.builder().build();

    final FabricKeys keys = FabricKeys.generate();
    final OneTimePasswords otps = new OneTimePasswords(Clock.systemUTC());
    final Members members = new Members(properties());
    final Bootstrapper bootstrapper = new Bootstrapper(otps, keys,
            new RegistryClient(URI.create("http://127.0.0.1:1"), keys, Duration.ofSeconds(1)),
            FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(5)).build(), members, properties());
    final List<String> received = new CopyOnWriteArrayList<>();
    HttpServer impostor;

    @AfterEach
    void stop() {
        if (impostor != null) {
            impostor.stop(0);
        }
    }

    static SpawnerProperties properties() {
        return new SpawnerProperties("spawner-test", Path.of("unused"), "", "", "process", List.of("queue"), Duration.ofSeconds(60),
                Duration.ofSeconds(10), Duration.ofSeconds(1), 0, Duration.ofMinutes(5), Duration.ofSeconds(2), false,
                new SpawnerProperties.Process("", "", List.of(), 0));
    }

    /** A listener that records every request (method, path and query, body) and answers with {@code answer}. */
    URI listen(Function<String, String> answer) throws Exception {
        impostor = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        impostor.createContext("/", exchange -> {
            String request = exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(request);
            byte[] body = answer.apply(request).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        impostor.start();
        return URI.create("http://127.0.0.1:" + impostor.getAddress().getPort());
    }

    LaunchedMember launched(URI managementUrl) {
        CompletableFuture<LaunchOutcome> outcome = new CompletableFuture<>();
        return new LaunchedMember() {
            public String serviceId() { return ID; }
            public long incarnation() { return 1; }
            public Map<String, String> metadata() { return Map.of(); }
            public Optional<URI> managementUrl() { return Optional.of(managementUrl); }
            public CompletableFuture<LaunchOutcome> outcome() { return outcome; }
            public void stop(Duration grace) {}
        };
    }

    static String x25519() {
        return Base64.getEncoder().encodeToString(KeySealing.newEphemeralKeyPair().getPublic().getEncoded());
    }

    @Test
    void anImpostorOnTheMembersPortInMode3ReceivesNothingSecret() throws Exception {
        OneTimePassword otp = bootstrapper.open(members.of(ID), 1);
        // It knows what the member's command line shows (id, incarnation), not the password.
        URI port = listen(request -> JSON.writeValueAsString(new BootstrapWire.Hello(ID, 1, x25519(),
                BootstrapProofs.encode(Ed25519.generate().getPublic()), "bm90LWEtcHJvb2Y")));

        assertThatThrownBy(() -> bootstrapper.complete(members.of(ID), launched(port), Connectivity.FIREWALL_FROM_SERVICE, "queue", Map.of(), false,
                Instant.now().plusSeconds(10)))
                .isInstanceOf(BootstrapFailure.class)
                .hasMessageContaining("did not prove it knows the member's one-time password")
                .hasMessageContaining("nothing secret was sent");
        assertThat(received).isNotEmpty().allMatch(r -> r.startsWith("GET /bootstrap/v1/hello?challenge="));
        assertThat(String.join("\n", received)).doesNotContain(otp.reveal());
    }

    @Test
    void aListenerEchoingTheMembersStatusFailsTheSetupCheck() throws Exception {
        // The genuine member redeemed its password; another process answers on its management port with what it can know.
        URI port = listen(request -> JSON.writeValueAsString(new BootstrapWire.Status(ID, 1, "queue", "AWAITING_CONFIGURATION",
                keys.keyId(), Map.of(), "bm90LWEtc2lnbmF0dXJl")));
        OneTimePassword otp = bootstrapper.open(members.of(ID), 1);
        bootstrapper.redeem(new BootstrapWire.Redeem(ID, 1, otp.reveal(), x25519(), port.toString(),
                BootstrapProofs.encode(Ed25519.generate().getPublic())));

        assertThatThrownBy(() -> bootstrapper.complete(members.of(ID), launched(port), Connectivity.DIRECT, "queue", Map.of(), false,
                Instant.now().plusSeconds(10)))
                .isInstanceOf(BootstrapFailure.class)
                .hasMessageContaining("is not signed with the bootstrap key member " + ID + " announced");
        assertThat(received).isNotEmpty().allMatch(r -> r.startsWith("GET /management/v1/status?challenge="));
    }
}
