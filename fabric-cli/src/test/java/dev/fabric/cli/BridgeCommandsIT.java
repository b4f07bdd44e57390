package dev.fabric.cli;

import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ServerSocket;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI follows the registry's record of how a member is reached (docs/connectivity.md): a queue
 * spawned to be reached through a bridge is managed through the bridge by {@code fabric queue} and
 * {@code fabric sessions}, which find the bridge in the registry. Skipped when the spawner jar has
 * not been built.
 */
class BridgeCommandsIT {

    @RegisterExtension
    static final LocalFabric.PerClass fabric = new LocalFabric.PerClass();

    private static Cli.Result ok(String... args) {
        Cli.Result result = fabric.cli().run(args);
        assertThat(result.exitCode()).as("%s: %s", List.of(args), result.err()).isZero();
        return result;
    }

    @Test
    void aQueueReachedThroughABridgeIsManagedByTheCli() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String bridge = ok("spawn", "bridge", "--config", "port=" + port, "--wait", "--timeout", "3m").out().strip();
        String relay = fabric.registry().get(bridge).endpoints().get("relay");
        assertThat(relay).isEqualTo("http://127.0.0.1:" + port);
        String queue = ok("spawn", "queue", "--config", "via=" + relay, "--wait", "--timeout", "3m").out().strip();
        ServiceInstance registered = fabric.registry().get(queue);
        assertThat(registered.metadata()).containsEntry("via", bridge);

        String id = ok("queue", "put", queue, "through the bridge").out().strip();
        List<String> taken = ok("queue", "take", queue).out().lines().toList();
        assertThat(taken.get(1)).startsWith(id).endsWith("through the bridge");
        ok("sessions", "add", queue, "bridged");
        assertThat(fabric.registry().sessionMembers("bridged").instances()).extracting(ServiceInstance::id).containsExactly(queue);

        // The relay port is the way in: stopped, the bridge takes the CLI's requests with it.
        ok("stop", bridge);
        Cli.Result refused = fabric.cli().run("queue", "stats", queue);
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("member " + queue).contains("bridge " + bridge);
    }
}
