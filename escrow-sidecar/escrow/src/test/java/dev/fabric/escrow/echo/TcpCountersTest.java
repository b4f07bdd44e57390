package dev.fabric.escrow.echo;

import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The kernel counters the echo server relies on after a restart count exactly the application's bytes. */
class TcpCountersTest {

    @Test
    void writtenAndConsumedCountTheApplicationsBytes() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            int fd = Descriptors.number(Descriptors.of(tcp.accepted));
            assertThat(TcpCounters.of(fd)).isEqualTo(new TcpCounters.Totals(0, 0));

            tcp.accepted.write(ByteBuffer.allocate(1000));
            assertThat(TcpCounters.of(fd).written()).as("acked or still queued: written either way").isEqualTo(1000);

            tcp.client.write(ByteBuffer.allocate(500));
            await().atMost(Duration.ofSeconds(5)).until(() -> tcp.accepted.socket().getInputStream().available() == 500);
            assertThat(TcpCounters.of(fd).consumed()).as("received but unread is not consumed").isZero();
            tcp.accepted.read(ByteBuffer.allocate(200));
            assertThat(TcpCounters.of(fd)).isEqualTo(new TcpCounters.Totals(1000, 200));

            tcp.client.shutdownOutput();
            await().atMost(Duration.ofSeconds(5)).until(() -> TcpCounters.of(fd).consumed() == 200);
            tcp.accepted.read(ByteBuffer.allocate(300));
            assertThat(TcpCounters.of(fd).consumed()).as("the FIN is not a byte").isEqualTo(500);
        }
    }
}
