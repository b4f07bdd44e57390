package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bulk recovery against our escrowd: {@code getAll} brings back every slot of a tag, with its
 * descriptor and payload, exactly once, in index order, in batches of up to 253 descriptors.
 */
class BulkRecoveryTest {

    @TempDir
    Path dir;

    @Test
    void getAllReturnsEverySlotWithItsPayloadExactlyOnce() throws Exception {
        int connections = 700; // a dozen batches of descriptors
        Map<Integer, SocketChannel> peers = new HashMap<>();
        List<Integer> expected = new ArrayList<>();
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("clients.sock"));
        try (Escrowd escrowd = TestDaemon.start(dir);
             ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address);
             ServerSocketChannel tcpListener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             TcpPair tcp = TcpPair.open()) {
            try (Escrow old = Escrow.open(escrowd.path(), 0, 8)) {
                for (int n = 0; n < connections; n++) {
                    int idx = n * 3 + (n % 2); // gaps between indices, as connections that ended leave them
                    SocketChannel peer = SocketChannel.open(address);
                    try (SocketChannel accepted = listener.accept()) {
                        old.add(1, idx, accepted, payloadOf(idx));
                    }
                    peers.put(idx, peer);
                    expected.add(idx);
                }
                old.add(1, 5_000, "payload only".getBytes(StandardCharsets.UTF_8));
                expected.add(5_000);
                for (int big = 0; big < 12; big++) { // 12 payloads of 32 KiB: more than one batch's 256 KiB of bytes
                    old.add(1, 6_000 + big, new byte[32 * 1024]);
                    expected.add(6_000 + big);
                }
                old.add(2, 0, "another tag".getBytes(StandardCharsets.UTF_8));
                old.add(1, 7_000, tcpListener, "listener".getBytes(StandardCharsets.UTF_8));
                expected.add(7_000);
                old.add(1, 7_001, tcp.accepted, "tcp".getBytes(StandardCharsets.UTF_8));
                expected.add(7_001);
            }

            try (Escrow recovering = Escrow.open(escrowd.path(), 0, 8)) {
                assertThat(recovering.hasBulkRecovery()).isTrue();
                List<Slot> slots = recovering.getAll(1);

                assertThat(slots).extracting(Slot::idx).containsExactlyElementsOf(expected);
                assertThat(slots).allSatisfy(slot -> assertThat(slot.tag()).isEqualTo(1));
                for (Slot slot : slots) {
                    if (slot.idx() < 5_000) {
                        assertThat(slot.payload()).isEqualTo(payloadOf(slot.idx()));
                        assertThat(slot.descriptor().kind()).isEqualTo(DescriptorKind.SOCKET);
                        assertConnectedTo(peers.get(slot.idx()), slot.socketChannel(), slot.idx());
                    } else if (slot.idx() == 7_000) {
                        // Described by the daemon as a listening IPv4 socket: it still accepts.
                        try (SocketChannel client = SocketChannel.open(tcpListener.getLocalAddress());
                             SocketChannel accepted = slot.serverSocketChannel().accept()) {
                            assertThat(accepted.isConnected()).isTrue();
                        }
                    } else if (slot.idx() == 7_001) {
                        assertThat(slot.descriptor().kind()).isEqualTo(DescriptorKind.SOCKET);
                        TcpPair.assertTalks(tcp.client, slot.socketChannel(), "over TCP");
                    } else if (slot.idx() == 5_000) {
                        assertThat(slot.hasDescriptor()).isFalse();
                        assertThat(slot.payload()).asString(StandardCharsets.UTF_8).isEqualTo("payload only");
                    } else {
                        assertThat(slot.payload()).hasSize(32 * 1024);
                    }
                    slot.descriptor().close();
                }
                // The session goes on after the bulk answer, and the slots stay in the escrow.
                assertThat(recovering.tag(1).slots()).isEqualTo(expected.size());
                assertThat(recovering.get(2, 0).payload()).asString(StandardCharsets.UTF_8).isEqualTo("another tag");
                assertThat(recovering.getAll(3)).isEmpty();
            }
        } finally {
            for (SocketChannel peer : peers.values()) {
                peer.close();
            }
        }
    }

    @Test
    void aBadTagIsRefusedAndTheSessionGoesOn() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(0, 0, new byte[] {7});
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> escrow.getAll(8))
                    .isInstanceOf(RequestRejectedException.class)
                    .hasMessageContaining("Wrong GTB request");
            assertThat(escrow.getAll(0)).extracting(Slot::payload).containsExactly(new byte[] {7});
        }
    }

    private static byte[] payloadOf(int idx) {
        return ("client " + idx).getBytes(StandardCharsets.UTF_8);
    }

    /** The revived channel is the very connection stored at idx: what its peer writes arrives on it. */
    private static void assertConnectedTo(SocketChannel peer, SocketChannel revived, int idx) throws Exception {
        byte[] text = ("to " + idx).getBytes(StandardCharsets.UTF_8);
        peer.write(ByteBuffer.wrap(text));
        ByteBuffer in = ByteBuffer.allocate(text.length);
        while (in.hasRemaining()) {
            assertThat(revived.read(in)).as("slot %d still connected", idx).isNotNegative();
        }
        assertThat(in.array()).isEqualTo(text);
    }
}
