package dev.fabric.escrow.echo;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.Dist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The C escrow's echo demo with real processes: escrowd, the echo server, and a client that keeps sending
 * numbered lines while the server is killed with -9 and started again, twice. The client's
 * connection survives, and every line comes back once, in order.
 */
class EchoRestartIT {

    @TempDir
    Path dir;
    Dist dist;

    @AfterEach
    void killEverything() throws Exception {
        dist.close();
    }

    @Test
    void clientStaysConnectedWithNoLostOrReorderedByteAcrossKillMinus9Restarts() throws Exception {
        dist = new Dist(dir);
        Path socket = dir.resolve("usock");
        String port = Integer.toString(Dist.freePort());

        Dist.Started daemon = dist.start("daemon", "-t", "2", socket.toString());
        daemon.awaitOutput("Listening on", Duration.ofSeconds(30));
        Dist.Started server = dist.start("echo-server", "--port", port, socket.toString());
        server.awaitOutput("recovered 0 clients", Duration.ofSeconds(30));
        assertThat(server.output()).contains("(new listener)");

        try (EchoClient client = new EchoClient(SocketChannel.open(new InetSocketAddress("127.0.0.1", Integer.parseInt(port))),
                64, Duration.ofMillis(1)).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> client.echoed() > 300);

            for (int round = 1; round <= 2; round++) {
                server.kill9();
                long echoedAtKill = client.echoed();
                Thread.sleep(300); // the client keeps sending into the kernel's buffers meanwhile
                assertThat(client.errors()).as("round " + round + ": nothing broke while the server was dead").isEmpty();

                server = dist.start("echo-server", "--port", port, socket.toString());
                server.awaitOutput("client #0 recovered", Duration.ofSeconds(30));
                assertThat(server.output()).contains("(listener recovered from the escrow)");
                await().atMost(Duration.ofSeconds(30)).until(() -> client.echoed() > echoedAtKill + 300);
            }

            assertThat(client.finish(Duration.ofSeconds(30))).as("every line sent was echoed").isTrue();
            assertThat(client.errors()).isEmpty();
            assertThat(client.echoed()).isEqualTo(client.sent()).isGreaterThan(600);

            EscrowStats stats = Escrow.stats(socket, false);
            assertThat(stats.count(DescriptorKind.SERVER_SOCKET)).isEqualTo(1);
            assertThat(stats.count(DescriptorKind.SOCKET)).isEqualTo(1);
            assertThat(stats.sessions()).isEqualTo(3);
        }
        server.awaitOutput("client #0 disconnected", Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> Escrow.stats(socket, false).count(DescriptorKind.SOCKET) == 0);
    }
}
