package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import dev.fabric.escrow.wire.Message;
import dev.fabric.escrow.wire.MessageEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kind of bad input gets an error reply or a clean close; the daemon keeps serving and the
 * escrow's contents stay as they were. Each test starts from a daemon holding a sentinel socket
 * and a sentinel payload, and checks both afterwards.
 */
class EscrowdBadInputTest {

    private static final byte[] SENTINEL = "sentinel".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;
    Escrowd escrowd;
    TcpPair sentinelSocket;
    TcpPair attached;
    List<EscrowStats.SlotInfo> before;
    final MessageEncoder encoder = new MessageEncoder();

    @BeforeEach
    void start() throws Exception {
        escrowd = TestDaemon.start(dir);
        sentinelSocket = TcpPair.open();
        attached = TcpPair.open();
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(3, 77, sentinelSocket.accepted, SENTINEL);
            escrow.add(4, 0, SENTINEL);
        }
        sentinelSocket.accepted.close();
        before = escrowd.stats(true).slots();
    }

    @AfterEach
    void contentsUnchangedAndDaemonStillServes() throws Exception {
        try {
            assertThat(escrowd.isServing()).isTrue();
            assertThat(escrowd.stats(true).slots()).isEqualTo(before);
            try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(5))) {
                assertThat(escrow.get(4, 0).payload()).isEqualTo(SENTINEL);
                try (var revived = escrow.get(3, 77).socketChannel()) {
                    TcpPair.assertTalks(sentinelSocket.client, revived, "sentinel still connected");
                }
            }
        } finally {
            sentinelSocket.close();
            attached.close();
            escrowd.close();
        }
    }

    /** The descriptor we attached to a bad message was closed by the daemon: its peer sees EOF once ours is closed too. */
    private void daemonClosedTheAttachedDescriptor() throws Exception {
        attached.accepted.close();
        assertThat(TcpPair.seesEof(attached.client, Duration.ofSeconds(2))).as("the daemon kept no copy").isTrue();
    }

    private FileDescriptor attachedFd() {
        return Descriptors.of(attached.accepted);
    }

    private static byte[] header(int opcode, int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder()).putShort((short) opcode).array();
    }

    @Test
    void truncatedMessageIsRefusedAndNothingOfItIsApplied() throws Exception {
        byte[] add = encoder.encode(new Message.Add(5, 5, 9, "not stored".getBytes(StandardCharsets.UTF_8)));
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(Arrays.copyOf(add, 20), attachedFd());
            raw.shutdownOutput();
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Truncated message."));
        }
        daemonClosedTheAttachedDescriptor();
        assertThat(escrowd.errors(Rejection.TRUNCATED)).isEqualTo(1);
    }

    @Test
    void clientDyingMidMessageLeavesNothingBehind() throws Exception {
        byte[] add = encoder.encode(new Message.Add(5, 6, 9, new byte[1000]));
        RawClient raw = RawClient.connect(escrowd.path());
        raw.send(Arrays.copyOf(add, 600), attachedFd());
        raw.close();
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void unknownOpcodeGetsEprotoAndTheSessionEnds() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(header(9, 8));
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Unexpected message type."));
        }
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(header(-300, 2));
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Unexpected message type."));
        }
        assertThat(escrowd.errors(Rejection.UNKNOWN_OPCODE)).isEqualTo(2);
    }

    @Test
    void oversizedOrNegativeNobGetsWrongAddAndTheSessionEnds() throws Exception {
        for (int nob : new int[] {32 * 1024 + 1, Integer.MAX_VALUE, -1}) {
            byte[] add = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder())
                    .putShort((short) 1).putShort((short) 5).putInt(5).putInt(9).putInt(nob).array();
            try (RawClient raw = RawClient.connect(escrowd.path())) {
                raw.send(add, attachedFd());
                assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-22, "Wrong ADD request."));
            }
        }
        daemonClosedTheAttachedDescriptor();
        assertThat(escrowd.errors(Rejection.BAD_LENGTH)).isEqualTo(3);
    }

    @Test
    void negativeTagOrIndexIsRejectedWithTheCTextsAndTheSessionGoesOn() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Add(-1, 0, 9, new byte[3]), attachedFd())).isEqualTo(new Message.Rep(-22, "Wrong ADD request."));
            assertThat(raw.request(new Message.Add(0, -1, 9, new byte[3]))).isEqualTo(new Message.Rep(-22, "Wrong ADD request."));
            assertThat(raw.request(new Message.Del(-1, 0))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
            assertThat(raw.request(new Message.Del(3, -77))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
            assertThat(raw.request(new Message.Get(-1, 0))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
            assertThat(raw.request(new Message.Get(3, Integer.MIN_VALUE))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
            assertThat(raw.request(new Message.Tag(-3))).isEqualTo(new Message.Rep(-22, "Wrong TAG request."));
            assertThat(raw.request(new Message.Tag(3))).as("the session goes on").isEqualTo(new Message.Inf(1, SENTINEL.length));
        }
        daemonClosedTheAttachedDescriptor();
        assertThat(escrowd.errors(Rejection.WRONG_REQUEST)).isEqualTo(7);
    }

    @Test
    void indexAtTheLimitIsRejected() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Add(0, 1 << 20, 9, new byte[0]))).isEqualTo(new Message.Rep(-22, "Wrong ADD request."));
            assertThat(raw.request(new Message.Get(0, 1 << 20))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
        }
    }

    @Test
    void tagAtOrBeyondNrTagsIsRejected() throws Exception {
        int nrTags = escrowd.config().nrTags();
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Add(nrTags, 0, 9, new byte[1]), attachedFd())).isEqualTo(new Message.Rep(-22, "Wrong ADD request."));
            assertThat(raw.request(new Message.Get(nrTags, 0))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
            assertThat(raw.request(new Message.Del(nrTags + 1, 0))).isEqualTo(new Message.Rep(-22, "Wrong DEL request."));
            assertThat(raw.request(new Message.Tag(Short.MAX_VALUE))).isEqualTo(new Message.Rep(-22, "Wrong TAG request."));
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void descriptorOnDelIsRejectedAndClosed() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Del(3, 77), attachedFd())).isEqualTo(new Message.Rep(-22, "Descriptor present in a DEL request."));
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void descriptorOnGetIsRejectedAndClosed() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Get(3, 77), attachedFd())).isEqualTo(new Message.Rep(-22, "Descriptor present in a GET request."));
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void descriptorOnTagIsRejectedAndClosed() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Tag(3), attachedFd())).isEqualTo(new Message.Rep(-22, "Descriptor present in a TAG request."));
        }
        daemonClosedTheAttachedDescriptor();
        assertThat(escrowd.errors(Rejection.DESCRIPTOR_PRESENT)).isEqualTo(1);
    }

    @Test
    void twoDescriptorsInOneMessageEndTheSessionAndBothAreClosed() throws Exception {
        try (TcpPair second = TcpPair.open(); RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(encoder.encode(new Message.Add(5, 1, 9, new byte[0])), attachedFd(), Descriptors.of(second.accepted));
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Too many descriptors in a message."));
            second.accepted.close();
            assertThat(TcpPair.seesEof(second.client, Duration.ofSeconds(2))).isTrue();
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void messagesOnlyTheDaemonSendsAreUnexpectedAndTheSessionGoesOn() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Rep(0, "hi"))).isEqualTo(new Message.Rep(-71, "Unexpected message type."));
            assertThat(raw.request(new Message.Inf(1, 2))).isEqualTo(new Message.Rep(-71, "Unexpected message type."));
            assertThat(raw.request(new Message.Hel(32, 0, 7), attachedFd())).isEqualTo(new Message.Rep(-71, "Unexpected message type."));
            assertThat(raw.request(new Message.Tag(4))).isEqualTo(new Message.Inf(1, SENTINEL.length));
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void oversizedRepTextEndsTheSession() throws Exception {
        byte[] rep = ByteBuffer.allocate(6).order(ByteOrder.nativeOrder()).putShort((short) 3).putShort((short) 0).putShort((short) 2000).array();
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(rep);
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Unexpected message type."));
        }
    }

    @Test
    void messageSplitIntoManyWritesIsStillOneMessage() throws Exception {
        byte[] add = encoder.encode(new Message.Add(5, 2, 9, "split".getBytes(StandardCharsets.UTF_8)));
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(Arrays.copyOfRange(add, 0, 1), attachedFd());
            for (int i = 1; i < add.length; i++) {
                Thread.sleep(1);
                raw.send(Arrays.copyOfRange(add, i, i + 1));
            }
            assertThat(raw.read().message()).isEqualTo(Message.Rep.ok());
            assertThat(raw.request(new Message.Del(5, 2))).isEqualTo(Message.Rep.ok());
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void addWithAUfdButNoDescriptorIsAPayloadOnlySlot() throws Exception {
        // The C daemon aborts on this (an assertion); ours stores the payload.
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.Add(5, 3, 12, "no fd".getBytes(StandardCharsets.UTF_8)))).isEqualTo(Message.Rep.ok());
            Message got = raw.request(new Message.Get(5, 3));
            assertThat(got).isEqualTo(new Message.Add(5, 3, 12, "no fd".getBytes(StandardCharsets.UTF_8)));
            assertThat(raw.request(new Message.Del(5, 3))).isEqualTo(Message.Rep.ok());
        }
    }

    // Bulk recovery (the GTB/BLK extension): bad requests and batches get an error, nothing held is touched.

    @Test
    void bulkGetAskingForMoreThan253SlotsPerBatchIsRefusedAndTheSessionGoesOn() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.GetBatch(3, 0, 254)))
                    .isEqualTo(new Message.Rep(-22, "Wrong GTB request: tag 0..7, from 0..1048575, max 1..253."));
            assertThat(raw.request(new Message.GetBatch(3, 0, 0))).isInstanceOf(Message.Rep.class);
            assertThat(raw.request(new Message.GetBatch(8, 0, 10))).isInstanceOf(Message.Rep.class);
            assertThat(raw.request(new Message.Tag(3))).isEqualTo(new Message.Inf(1, SENTINEL.length));
        }
        assertThat(escrowd.errors(Rejection.WRONG_REQUEST)).isEqualTo(3);
    }

    @Test
    void truncatedBulkGetIsRefused() throws Exception {
        byte[] request = encoder.encode(new Message.GetBatch(3, 0, 60));
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(Arrays.copyOf(request, 6));
            raw.shutdownOutput();
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Truncated message."));
        }
        assertThat(escrowd.errors(Rejection.TRUNCATED)).isEqualTo(1);
    }

    @Test
    void bulkGetCarryingADescriptorIsRefused() throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            assertThat(raw.request(new Message.GetBatch(3, 0, 60), attachedFd()))
                    .isEqualTo(new Message.Rep(-22, "Descriptor present in a GTB request."));
        }
        daemonClosedTheAttachedDescriptor();
    }

    @Test
    void batchWithFewerDescriptorsThanItAnnouncesEndsTheSessionAndClosesWhatCame() throws Exception {
        byte[] batch = encoder.encode(new Message.Batch(5, -1, List.of(new Message.Batch.Entry(1, 9, true, SENTINEL),
                new Message.Batch.Entry(2, 9, true, SENTINEL))));
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(batch, attachedFd());
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Unexpected message type."));
        }
        daemonClosedTheAttachedDescriptor();
        assertThat(escrowd.errors(Rejection.BAD_BATCH)).isEqualTo(1);
    }

    @Test
    void batchAnnouncingMoreThan253SlotsEndsTheSession() throws Exception {
        byte[] batch = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder())
                .putShort((short) 17).putShort((short) 5).putShort((short) 300).putShort((short) 1).putInt(-1).putInt(0).array();
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(batch, attachedFd());
            assertThat(raw.readUntilClosed()).containsExactly(new Message.Rep(-71, "Unexpected message type."));
        }
        daemonClosedTheAttachedDescriptor();
        assertThat(escrowd.errors(Rejection.BAD_LENGTH)).isEqualTo(1);
    }

    @Test
    void aBatchSentToTheDaemonIsAnUnexpectedMessage() throws Exception {
        byte[] batch = encoder.encode(new Message.Batch(5, -1, List.of(new Message.Batch.Entry(1, 9, true, SENTINEL))));
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(batch, attachedFd());
            assertThat(raw.read().message()).isEqualTo(new Message.Rep(-71, "Unexpected message type."));
            assertThat(raw.request(new Message.Tag(5))).as("nothing of the batch was stored").isEqualTo(new Message.Inf(0, 0));
        }
        daemonClosedTheAttachedDescriptor();
    }
}
