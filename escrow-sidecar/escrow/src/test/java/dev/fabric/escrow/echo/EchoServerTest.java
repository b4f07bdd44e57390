package dev.fabric.escrow.echo;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The echo server echoes, and keeps its listener and its clients in the escrow while it does. */
class EchoServerTest {

    @TempDir
    Path dir;

    @Test
    void echoesAndKeepsItsSocketsInTheEscrow() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Escrowd escrowd = TestDaemon.start(dir)) {
            Escrow escrow = Escrow.open(escrowd.path(), 0, EchoServer.NR_TAGS);
            EchoServer server = new EchoServer(escrow, 0, new PrintStream(log, true, StandardCharsets.UTF_8));
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    server.run();
                } catch (Exception e) {
                    // the test closes the escrow under it at the end
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> server.port() > 0);

            try (EchoClient client = new EchoClient(SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port())), 8,
                    Duration.ZERO).start()) {
                await().atMost(Duration.ofSeconds(10)).until(() -> client.echoed() > 2_000);
                assertThat(client.finish(Duration.ofSeconds(5))).isTrue();
                assertThat(client.errors()).isEmpty();

                EscrowStats stats = escrowd.stats();
                assertThat(stats.tags()).extracting(EscrowStats.TagStats::tag).containsExactly(EchoServer.LISTENER_TAG, EchoServer.CLIENT_TAG);
                assertThat(stats.tags().get(0).count(DescriptorKind.SERVER_SOCKET)).isEqualTo(1);
                assertThat(stats.tags().get(1).count(DescriptorKind.SOCKET)).isEqualTo(1);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> escrowd.stats().tags().size() == 1);
            assertThat(log.toString(StandardCharsets.UTF_8)).contains("(new listener)", "client #0 connected", "client #0 disconnected");
            escrow.close();
        }
    }
}
