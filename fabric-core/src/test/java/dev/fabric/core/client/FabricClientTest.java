package dev.fabric.core.client;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.RegistryCallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What needs no fabric: settings and a registry that is not there. The fail-over itself: FabricClientIT in spawner-service. */
class FabricClientTest {

    @TempDir
    Path dir;

    @Test
    void settingsMustBeSensible() {
        FabricClient.Builder builder = FabricClient.builder(URI.create("http://127.0.0.1:8470"), FabricKeys.generate());
        assertThatThrownBy(() -> builder.restartTimeout(Duration.ZERO)).hasMessageContaining("restartTimeout must be positive");
        assertThatThrownBy(() -> builder.pollInterval(Duration.ofMillis(-1))).hasMessageContaining("pollInterval must be positive");
        assertThatThrownBy(() -> builder.name(" ")).hasMessageContaining("1 to 128 characters");
        try (FabricClient unnamed = builder.build(); FabricClient named = builder.name("my-app").build()) {
            assertThat(unnamed.name()).startsWith("fabric-client-");
            assertThat(named.name()).isEqualTo("my-app");
        }
    }

    @Test
    void aCallWhenTheRegistryIsDownSaysSo() throws Exception {
        URI nowhere = URI.create("http://127.0.0.1:" + closedPort());
        try (FabricClient client = FabricClient.builder(nowhere, FabricKeys.generate()).build()) {
            assertThatThrownBy(() -> client.call("queue-1", (rest, url) -> "never"))
                    .isInstanceOf(RegistryCallException.class)
                    .hasMessageContaining("cannot reach the registry at " + nowhere)
                    .satisfies(e -> assertThat(((RegistryCallException) e).unreachable()).isTrue());
        }
    }

    @Test
    void reconnectLoadsTheKeysTheConnectionNames() throws Exception {
        FabricConnection connection = new FabricConnection(URI.create("http://127.0.0.1:" + closedPort()), dir.resolve("keys"), List.of("s-1"));
        assertThatThrownBy(() -> FabricClient.reconnect(connection)).hasMessageContaining("missing fabric key file");

        FabricKeys.generate().writeTo(dir.resolve("keys"));
        // The keys load; the registry is down, and that is what the reconnect says.
        assertThatThrownBy(() -> FabricClient.reconnect(connection)).isInstanceOf(RegistryCallException.class)
                .hasMessageContaining("members of session s-1");
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
