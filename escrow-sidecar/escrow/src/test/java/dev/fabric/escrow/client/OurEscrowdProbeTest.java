package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whether the daemon is ours is learnt without sending it a byte (the C daemon aborts on a message
 * it does not know): the peer pid of the session must be the pid our stats socket reports.
 */
class OurEscrowdProbeTest {

    @TempDir
    Path dir;

    @Test
    void ourEscrowdIsRecognised() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            assertThat(escrow.servedByOurEscrowd()).isTrue();
            escrow.add(0, 0, new byte[] {1});
            assertThat(escrow.servedByOurEscrowd()).isTrue();
        }
    }

    @Test
    void ourEscrowdAnswersTheInBandProbeAndTheProbeChangesNothing() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(0, 0, new byte[] {1});
            assertThat(escrow.hasBulkRecovery()).isTrue();
            assertThat(escrow.hasBulkRecovery()).as("asked once per session").isTrue();
            assertThat(escrow.tag(0).slots()).isEqualTo(1);
            assertThat(escrowd.stats(true).slots()).hasSize(1);
        }
    }

    @Test
    void aDaemonWithoutOurStatsSocketIsNotTakenForOursAndIsSentNothing() throws Exception {
        Path path = dir.resolve("c-escrowd.sock");
        try (AFUNIXServerSocket other = AFUNIXServerSocket.bindOn(AFUNIXSocketAddress.of(path))) {
            CompletableFuture<Integer> received = CompletableFuture.supplyAsync(() -> {
                try (AFUNIXSocket session = other.accept()) {
                    return session.getInputStream().read();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Escrow escrow = Escrow.open(path, 0, 8)) {
                assertThat(escrow.servedByOurEscrowd()).isFalse();
            }
            assertThat(received.get(10, TimeUnit.SECONDS)).as("end of stream, no byte").isEqualTo(-1);
        }
    }
}
