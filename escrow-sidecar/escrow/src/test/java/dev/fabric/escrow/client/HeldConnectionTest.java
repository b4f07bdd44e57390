package dev.fabric.escrow.client;

import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The recovery facts count exactly the application's bytes; peek leaves them queued, skip consumes them. */
class HeldConnectionTest {

    @Test
    void factsCountTheApplicationsBytesAndNotThePeersClose() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            HeldConnection held = HeldConnection.of(tcp.accepted);
            assertThat(held.facts()).isEqualTo(new RecoveryFacts(0, 0, 0, 0, false));

            tcp.accepted.write(ByteBuffer.allocate(1000));
            assertThat(held.facts().bytesSent()).as("acked or still queued: sent either way").isEqualTo(1000);
            await().atMost(Duration.ofSeconds(5)).until(() -> held.facts().bytesAcknowledged() == 1000);

            tcp.client.write(ByteBuffer.allocate(500));
            await().atMost(Duration.ofSeconds(5)).until(() -> held.facts().bytesReceived() == 500);
            assertThat(held.facts().bytesConsumed()).as("received but unread is not consumed").isZero();
            assertThat(held.facts().bytesUnread()).isEqualTo(500);
            held.skip(200);
            assertThat(held.facts()).isEqualTo(new RecoveryFacts(1000, 1000, 500, 200, false));

            tcp.client.shutdownOutput();
            await().atMost(Duration.ofSeconds(5)).until(() -> held.facts().peerClosed());
            assertThat(held.facts().bytesReceived()).as("the FIN is not a byte").isEqualTo(500);
            assertThat(held.facts().bytesConsumed()).isEqualTo(200);
            held.skip(300);
            assertThat(held.facts().bytesConsumed()).isEqualTo(500);
            assertThat(held.read(new byte[1], 1)).as("end of stream").isEqualTo(-1);
        }
    }

    @Test
    void peekLeavesTheBytesQueuedUntilTheyAreSkipped() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            HeldConnection held = HeldConnection.of(tcp.accepted);
            tcp.client.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            byte[] buffer = new byte[16];
            await().atMost(Duration.ofSeconds(5)).until(() -> held.facts().bytesUnread() == 5);
            assertThat(held.peek(buffer, buffer.length)).isEqualTo(5);
            assertThat(held.peek(buffer, buffer.length)).as("still there").isEqualTo(5);
            held.writeAll(buffer, 5);
            held.skip(5);
            assertThat(held.facts().bytesUnread()).isZero();
            TcpPair.assertTalks(tcp.client, tcp.accepted, "x");
            ByteBuffer echoed = ByteBuffer.allocate(5);
            while (echoed.hasRemaining()) {
                tcp.client.read(echoed);
            }
            assertThat(new String(echoed.array(), StandardCharsets.US_ASCII)).isEqualTo("hello");
        }
    }
}
