package dev.fabric.escrow.client;

import dev.fabric.escrow.testing.CEscrowd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bulk recovery against the seed's C escrowd: the client probes, sees the C daemon's answer, never
 * sends the extension, and falls back to one GET at a time. The proof is the C daemon's own trace of
 * every message it received (it prints each one, an unknown opcode as {@code {UNKNOWN n}}) and that it
 * still runs and serves afterwards. Needs the C escrowd ({@link CEscrowd}); skipped with a message
 * without it.
 */
class CEscrowdFallbackIT {

    @TempDir
    Path dir;

    @Test
    void getAllAgainstTheCDaemonFallsBackToGetsAndNeverSendsTheExtension() throws Exception {
        Optional<Path> cEscrowd = CEscrowd.binary(dir);
        assumeTrue(cEscrowd.isPresent(), CEscrowd.HOW);
        Path socket = dir.resolve("c.sock");
        Path trace = dir.resolve("c-escrowd.out");
        // Line-buffered (coreutils' stdbuf), so that its trace is complete while it runs.
        Process daemon = new ProcessBuilder("stdbuf", "-oL", cEscrowd.get().toString(), "-t", "4", socket.toString())
                .redirectErrorStream(true).redirectOutput(trace.toFile()).start();
        List<SocketChannel> peers = new ArrayList<>();
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("clients.sock"));
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(socket) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<Integer> expected = new ArrayList<>();
            try (Escrow old = Escrow.open(socket, 0, 4)) {
                for (int n = 0; n < 150; n++) {
                    int idx = n * 2; // gaps: the fallback must skip empty indices
                    SocketChannel peer = SocketChannel.open(address);
                    try (SocketChannel accepted = listener.accept()) {
                        old.add(1, idx, accepted, ("client " + idx).getBytes(StandardCharsets.UTF_8));
                    }
                    peers.add(peer);
                    expected.add(idx);
                }
            }

            try (Escrow recovering = Escrow.open(socket, 0, 4)) {
                assertThat(recovering.hasBulkRecovery()).as("the C daemon is not taken for ours").isFalse();
                assertThat(recovering.servedByOurEscrowd()).isFalse();
                List<Slot> slots = recovering.getAll(1);
                assertThat(slots).extracting(Slot::idx).containsExactlyElementsOf(expected);
                for (Slot slot : slots) {
                    assertThat(slot.payload()).asString(StandardCharsets.UTF_8).isEqualTo("client " + slot.idx());
                    SocketChannel peer = peers.get(slot.idx() / 2);
                    peer.write(ByteBuffer.wrap(new byte[] {42}));
                    ByteBuffer one = ByteBuffer.allocate(1);
                    assertThat(slot.socketChannel().read(one)).isEqualTo(1);
                    slot.descriptor().close();
                }
            }

            assertThat(daemon.isAlive()).as("the C daemon survived").isTrue();
            try (Escrow after = Escrow.open(socket, 0, 4)) {
                assertThat(after.tag(1).slots()).as("and still holds every slot").isEqualTo(150);
            }
            String received = Files.readString(trace);
            // The C daemon prints a TAG as {REP tag}: the probe is its "{REP -32768}", answered -22.
            assertThat(received).contains("recv: {REP -32768}", "send: {REP -22 \"Wrong TAG request.\"}");
            // It prints a session's end as a zeroed message with the result -108 (ESHUTDOWN): "{UNKNOWN 0} (-1) -108".
            assertThat(received.lines().filter(line -> line.startsWith("recv: {UNKNOWN") && !line.endsWith(" -108")))
                    .as("no message it did not know").isEmpty();
            assertThat(received.lines().filter(line -> line.startsWith("recv: {REP -32768}"))).as("the probe, once").hasSize(1);
            long gets = received.lines().filter(line -> line.startsWith("recv: {GET")).count();
            assertThat(gets).as("one GET per index up to the last slot").isEqualTo(299);
        } finally {
            for (SocketChannel peer : peers) {
                peer.close();
            }
            daemon.destroy();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
