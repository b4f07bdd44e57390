package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.wire.Extension;
import dev.fabric.escrow.wire.Message;
import dev.fabric.escrow.wire.MessageEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.io.DataInputStream;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The client's side of a malformed bulk answer: a peer that answers the probe as our escrowd does,
 * then sends a bad batch. {@code getAll} fails with a clear error, closes every descriptor that came,
 * and closes the session (the stream cannot be resynchronised). The slots of a real escrowd are
 * untouched by any of this: a bulk GET never removes a slot.
 */
class BulkRecoveryBadBatchTest {

    @TempDir
    Path dir;

    final MessageEncoder encoder = new MessageEncoder();

    @Test
    void aBatchWithFewerDescriptorsThanItAnnouncesIsAClearErrorAndWhatCameIsClosed() throws Exception {
        try (var pair = UnixPair.open(dir)) {
            byte[] batch = encoder.encode(new Message.Batch(1, -1, List.of(new Message.Batch.Entry(0, 3, true, null),
                    new Message.Batch.Entry(1, 4, true, null))));
            assertThatThrownBy(() -> getAllAnswered(batch, pair.sent))
                    .isInstanceOf(EscrowProtocolException.class)
                    .hasMessageContaining("BLK announces 2 descriptors; 2 entries have one and 1 arrived");
            pair.sent.close();
            assertThat(pair.peerSeesEof()).as("the client closed the one descriptor that came").isTrue();
        }
    }

    @Test
    void aBatchOfMoreThan253SlotsIsAClearError() throws Exception {
        byte[] header = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder())
                .putShort((short) 17).putShort((short) 1).putShort((short) 300).putShort((short) 0).putInt(-1).putInt(300 * 16).array();
        assertThatThrownBy(() -> getAllAnswered(header, null))
                .isInstanceOf(EscrowProtocolException.class)
                .hasMessageContaining("BLK announces 300 slots; a batch carries 0..253");
    }

    @Test
    void aTruncatedBatchIsAClearErrorAndWhatCameIsClosed() throws Exception {
        try (var pair = UnixPair.open(dir)) {
            byte[] batch = encoder.encode(new Message.Batch(1, -1, List.of(new Message.Batch.Entry(0, 3, true, new byte[64]))));
            assertThatThrownBy(() -> getAllAnswered(Arrays.copyOf(batch, batch.length - 10), pair.sent))
                    .isInstanceOf(EscrowProtocolException.class)
                    .hasMessageContaining("closed the session in the middle of a message");
            pair.sent.close();
            assertThat(pair.peerSeesEof()).as("the client closed the descriptor of the unfinished batch").isTrue();
        }
    }

    /** Runs {@code getAll(1)} against a peer that answers the probe as ours, then sends {@code answer} (with {@code fd}) and hangs up. */
    private void getAllAnswered(byte[] answer, SocketChannel fd) throws Exception {
        Path path = dir.resolve("peer-" + System.nanoTime() + ".sock");
        try (AFUNIXServerSocket server = AFUNIXServerSocket.bindOn(AFUNIXSocketAddress.of(path))) {
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (AFUNIXSocket session = server.accept()) {
                    DataInputStream in = new DataInputStream(session.getInputStream());
                    in.readFully(new byte[4]); // the probe
                    session.getOutputStream().write(encoder.encode(new Message.Rep(0, Extension.PROBE_REPLY)));
                    in.readFully(new byte[12]); // GTB
                    if (fd != null) {
                        session.setOutboundFileDescriptors(Descriptors.of(fd));
                    }
                    session.getOutputStream().write(answer);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Escrow escrow = Escrow.open(path, 0, 2)) {
                try {
                    escrow.getAll(1);
                } finally {
                    peer.get(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** A connected UNIX stream pair: {@code sent} goes to the client, {@code peer} tells whether every copy of it is closed. */
    private record UnixPair(SocketChannel sent, SocketChannel peer) implements AutoCloseable {
        static UnixPair open(Path dir) throws Exception {
            var address = java.net.UnixDomainSocketAddress.of(dir.resolve("pair-" + System.nanoTime() + ".sock"));
            try (var listener = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address)) {
                SocketChannel peer = SocketChannel.open(address);
                return new UnixPair(listener.accept(), peer);
            }
        }

        boolean peerSeesEof() throws Exception {
            CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return peer.read(ByteBuffer.allocate(1));
                } catch (Exception e) {
                    return -1;
                }
            });
            try {
                return read.get(2, TimeUnit.SECONDS) < 0;
            } catch (java.util.concurrent.TimeoutException e) {
                peer.close();
                return false;
            }
        }

        @Override
        public void close() throws Exception {
            sent.close();
            peer.close();
        }
    }
}
