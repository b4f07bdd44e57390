package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Descriptor;
import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.RequestRejectedException;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.client.SlotNotFoundException;
import dev.fabric.escrow.client.TagInfo;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketPair;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ADD, GET, DEL and TAG with real TCP sockets passed over SCM_RIGHTS to a real daemon. */
class EscrowdRoundTripTest {

    @TempDir
    Path dir;
    Escrowd escrowd;
    Escrow escrow;

    @BeforeEach
    void start() throws Exception {
        escrowd = TestDaemon.start(dir);
        escrow = Escrow.open(escrowd.path(), 0, 8);
    }

    @AfterEach
    void stop() throws Exception {
        escrow.close();
        escrowd.close();
    }

    @Test
    void tcpSocketComesBackFromTheEscrowAndStillTalks() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            escrow.add(1, 42, tcp.accepted, "client 42".getBytes(StandardCharsets.UTF_8));
            tcp.accepted.close();
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofMillis(200))).as("the daemon's copy keeps the connection").isFalse();

            Slot slot = escrow.get(1, 42);
            assertThat(slot.payload()).asString(StandardCharsets.UTF_8).isEqualTo("client 42");
            assertThat(slot.descriptor()).isInstanceOf(Descriptor.Socket.class);
            assertThat(slot.ufd()).isPositive();
            SocketChannel revived = slot.socketChannel();
            assertThat(revived.getClass().getName()).as("a JDK channel").startsWith("sun.nio.ch.");
            assertThat(revived.getRemoteAddress()).isEqualTo(tcp.client.getLocalAddress());
            TcpPair.assertTalks(tcp.client, revived, "hello through the escrow");
            TcpPair.assertTalks(revived, tcp.client, "and back");
            revived.close();
        }
    }

    @Test
    void listeningSocketComesBackAndAcceptsNewClients() throws Exception {
        ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        escrow.add(0, 0, listener, Integer.toString(port).getBytes(StandardCharsets.US_ASCII));
        listener.close();

        Slot slot = escrow.get(0, 0);
        ServerSocketChannel revived = slot.serverSocketChannel();
        try (SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
             SocketChannel accepted = revived.accept()) {
            TcpPair.assertTalks(client, accepted, "new client after the hand-over");
        }
        revived.close();
    }

    @Test
    void closingARevivedCopyLeavesTheConnectionAndTheListenerAlone() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            escrow.add(1, 1, tcp.accepted, null);
            escrow.add(0, 1, tcp.listener, null);
            tcp.accepted.close();
            escrow.get(1, 1).socketChannel().close();
            escrow.get(0, 1).serverSocketChannel().close();
            try (SocketChannel again = escrow.get(1, 1).socketChannel()) {
                TcpPair.assertTalks(tcp.client, again, "closing a copy shut nothing down");
            }
            try (ServerSocketChannel listener = escrow.get(0, 1).serverSocketChannel();
                 SocketChannel client = SocketChannel.open(tcp.listener.getLocalAddress());
                 SocketChannel accepted = listener.accept()) {
                TcpPair.assertTalks(client, accepted, "still listening");
            }
        }
    }

    @Test
    void payloadOnlySlotsWork() throws Exception {
        escrow.add(2, 5, "just data".getBytes(StandardCharsets.UTF_8));
        Slot slot = escrow.get(2, 5);
        assertThat(slot.hasDescriptor()).isFalse();
        assertThat(slot.descriptor()).isInstanceOf(Descriptor.None.class);
        assertThat(slot.ufd()).isEqualTo(-1);
        assertThat(slot.payload()).asString(StandardCharsets.UTF_8).isEqualTo("just data");
        assertThat(escrow.tag(2)).isEqualTo(new TagInfo(1, 9));
    }

    @Test
    void descriptorsOutliveTheSessionTheyCameOn() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            escrow.add(3, 1, tcp.accepted, null);
            tcp.accepted.close();
            escrow.close();
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofMillis(200))).isFalse();

            escrow = Escrow.open(escrowd.path(), 0, 8);
            try (SocketChannel revived = escrow.get(3, 1).socketChannel()) {
                TcpPair.assertTalks(tcp.client, revived, "still here in the next session");
            }
        }
    }

    @Test
    void revivedDescriptorStaysOpenAfterTheSessionCloses() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            escrow.add(3, 2, tcp.accepted, null);
            SocketChannel revived = escrow.get(3, 2).socketChannel();
            escrow.del(3, 2);
            tcp.accepted.close();
            escrow.close();
            TcpPair.assertTalks(tcp.client, revived, "ours, not the session's");
            revived.close();
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofSeconds(2))).isTrue();
        }
    }

    @Test
    void delRemovesTheSlotAndClosesTheDaemonsCopy() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            escrow.add(4, 7, tcp.accepted, null);
            tcp.accepted.close();
            escrow.del(4, 7);
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofSeconds(2))).as("last copy closed: the peer sees EOF").isTrue();
            assertThatThrownBy(() -> escrow.get(4, 7)).isInstanceOf(SlotNotFoundException.class);
        }
    }

    @Test
    void addReplacesAndClosesWhatWasThere() throws Exception {
        try (TcpPair first = TcpPair.open(); TcpPair second = TcpPair.open()) {
            escrow.add(5, 0, first.accepted, "first".getBytes(StandardCharsets.UTF_8));
            first.accepted.close();
            escrow.add(5, 0, second.accepted, "second".getBytes(StandardCharsets.UTF_8));
            assertThat(TcpPair.seesEof(first.client, Duration.ofSeconds(2))).isTrue();
            assertThat(escrow.get(5, 0).payload()).asString(StandardCharsets.UTF_8).isEqualTo("second");
            assertThat(escrow.tag(5)).isEqualTo(new TagInfo(1, 6));
        }
    }

    @Test
    void tagCountsSlotsAndPayloadBytes() throws Exception {
        assertThat(escrow.tag(6)).isEqualTo(new TagInfo(0, 0));
        escrow.add(6, 0, new byte[10]);
        escrow.add(6, 1_000, new byte[20]);
        escrow.add(6, (1 << 20) - 1, new byte[32 * 1024]);
        assertThat(escrow.tag(6)).isEqualTo(new TagInfo(3, 30 + 32 * 1024));
        escrow.del(6, 1_000);
        assertThat(escrow.tag(6)).isEqualTo(new TagInfo(2, 10 + 32 * 1024));
    }

    @Test
    void emptySlotErrorsCarryTheCDaemonsErrnoAndText() {
        assertThatThrownBy(() -> escrow.get(1, 1)).isInstanceOfSatisfying(SlotNotFoundException.class, e -> {
            assertThat(e.errno()).isEqualTo(2);
            assertThat(e.rc()).isEqualTo(-2);
            assertThat(e.text()).isEqualTo("Non-existent index in a GET request.");
        });
        assertThatThrownBy(() -> escrow.del(1, 1)).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
            assertThat(e.errno()).isEqualTo(22);
            assertThat(e.text()).isEqualTo("Non-existent index in DEL request.");
        });
    }

    @Test
    void pipeIsHeldAsAPlainFileDescriptor() throws Exception {
        Pipe pipe = Pipe.open();
        escrow.add(7, 0, pipe.sink(), "pipe".getBytes(StandardCharsets.UTF_8));
        pipe.sink().close();
        Slot slot = escrow.get(7, 0);
        assertThat(slot.descriptor().kind()).isEqualTo(DescriptorKind.FILE);
        try (FileOutputStream out = new FileOutputStream(slot.fileDescriptor())) {
            out.write("through the revived pipe".getBytes(StandardCharsets.UTF_8));
        }
        escrow.del(7, 0);
        ByteBuffer in = ByteBuffer.allocate(64);
        while (pipe.source().read(in) >= 0) {
            // until the last writer (ours, then the daemon's) is gone
        }
        assertThat(new String(in.array(), 0, in.position(), StandardCharsets.UTF_8)).isEqualTo("through the revived pipe");
    }

    @Test
    void unixSocketComesBackAsAUnixDomainSocketChannel() throws Exception {
        AFUNIXSocketPair<AFUNIXSocketChannel> pair = AFUNIXSocketPair.open();
        escrow.add(0, 9, pair.getSocket1(), null);
        Descriptors.closeKeepingConnection(pair.getSocket1());
        SocketChannel revived = escrow.get(0, 9).socketChannel();
        assertThat(revived.getLocalAddress()).isInstanceOf(java.net.UnixDomainSocketAddress.class);
        revived.write(ByteBuffer.wrap(new byte[] {42}));
        ByteBuffer in = ByteBuffer.allocate(1);
        pair.getSocket2().read(in);
        assertThat(in.get(0)).isEqualTo((byte) 42);
        revived.close();
        pair.getSocket2().close();
    }

    @Test
    void statsShowSlotsPerTagAndDescriptorKinds() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            escrow.add(0, 0, tcp.listener, "l".getBytes(StandardCharsets.UTF_8));
            escrow.add(1, 0, tcp.accepted, "ab".getBytes(StandardCharsets.UTF_8));
            escrow.add(1, 1, "xyz".getBytes(StandardCharsets.UTF_8));
            EscrowStats stats = escrow.stats();
            assertThat(stats.totalSlots()).isEqualTo(3);
            assertThat(stats.totalBytes()).isEqualTo(6);
            assertThat(stats.count(DescriptorKind.SERVER_SOCKET)).isEqualTo(1);
            assertThat(stats.count(DescriptorKind.SOCKET)).isEqualTo(1);
            assertThat(stats.count(DescriptorKind.NONE)).isEqualTo(1);
            assertThat(stats.sessionActive()).isTrue();
            assertThat(stats.tags()).extracting(EscrowStats.TagStats::tag).containsExactly(0, 1);
            assertThat(Escrow.stats(escrowd.path(), true).slots()).hasSize(3);
        }
    }

    @Test
    void verboseDaemonPrintsTheCEscrowsTrace() throws Exception {
        escrow.close();
        escrowd.close();
        ByteArrayOutputStream trace = new ByteArrayOutputStream();
        escrowd = Escrowd.start(TestDaemon.config(dir).withTrace(new PrintStream(trace, true, StandardCharsets.UTF_8)));
        escrow = Escrow.open(escrowd.path(), 0, 8);
        assertThatThrownBy(() -> escrow.get(0, 0)).isInstanceOf(SlotNotFoundException.class);
        escrow.add(0, 0, new byte[3]);
        escrow.close();
        escrow = Escrow.open(escrowd.path(), 0, 8);
        escrow.tag(0);
        assertThat(trace.toString(StandardCharsets.UTF_8).lines()).startsWith(
                "recv: {GET   0   0} (-1)   0",
                "send: {REP  -2 \"Non-existent index in a GET request.\"} (-1)   0",
                "recv: {ADD   0   0  -1    3} (-1)   0",
                "send: {REP   0 \"\"} (-1)   0",
                "Session completed with -108.");
    }
}
