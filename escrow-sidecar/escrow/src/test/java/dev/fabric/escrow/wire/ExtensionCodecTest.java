package dev.fabric.escrow.wire;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.FileDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Byte fixtures of the bulk-recovery extension (GTB, BLK) and of its probe, and every malformed batch. */
class ExtensionCodecTest {

    final MessageEncoder encoder = new MessageEncoder();

    @BeforeAll
    static void littleEndianHost() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "fixtures are little-endian; the wire is native order");
    }

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    @Test
    void theProbeIsATagOfTheLowestInt16() {
        // A TAG of the C protocol (4 bytes): the C daemon answers REP -22 "Wrong TAG request." and changes nothing.
        assertThat(encoder.encode(Extension.PROBE)).isEqualTo(bytes("0400 0080"));
        assertThat(Extension.isOurProbeReply(new Message.Rep(0, Extension.PROBE_REPLY))).isTrue();
        assertThat(Extension.isOurProbeReply(new Message.Rep(-22, "Wrong TAG request."))).isFalse();
        assertThat(Extension.isOurProbeReply(new Message.Inf(0, 0))).isFalse();
    }

    @Test
    void getBatchIsTwelveBytes() throws Exception {
        byte[] wire = encoder.encode(new Message.GetBatch(1, 300, 60));
        assertThat(wire).isEqualTo(bytes("1000 0100 2c010000 3c000000"));
        assertThat(new MessageDecoder().decode(ByteBuffer.wrap(wire)).orElseThrow().message()).isEqualTo(new Message.GetBatch(1, 300, 60));
    }

    @Test
    void batchIsAHeaderThenItsEntriesWithTheirDescriptorsInOrder() throws Exception {
        Message.Batch batch = new Message.Batch(1, -1, List.of(new Message.Batch.Entry(4, 9, true, new byte[] {'h', 'i'}),
                new Message.Batch.Entry(7, -1, false, new byte[0])));
        byte[] wire = encoder.encode(batch);
        assertThat(wire).isEqualTo(bytes("1100 0100 0200 0100 ffffffff 22000000"
                + "04000000 09000000 02000000 01000000 6869"
                + "07000000 ffffffff 00000000 00000000"));
        FileDescriptor fd = new FileDescriptor();
        MessageDecoder decoder = new MessageDecoder();
        // One byte at a time, the descriptor arriving with the first: it stays with the batch.
        Frame frame = null;
        for (int i = 0; i < wire.length; i++) {
            frame = decoder.decode(ByteBuffer.wrap(wire, i, 1), i == 0 ? new FileDescriptor[] {fd} : new FileDescriptor[0]).orElse(null);
        }
        assertThat(frame).isNotNull();
        assertThat(frame.message()).isEqualTo(batch);
        assertThat(frame.descriptors()).containsExactly(fd);
    }

    @Test
    void anEntryCanDescribeItsSocketSoTheClientAsksTheKernelNothing() throws Exception {
        int described = Extension.describe(Extension.SocketKind.LISTENING, java.net.StandardProtocolFamily.INET6);
        assertThat(described).isEqualTo(0x3200);
        assertThat(Extension.kindOf(described)).isEqualTo(Extension.SocketKind.LISTENING);
        assertThat(Extension.familyOf(described)).isEqualTo(java.net.StandardProtocolFamily.INET6);
        assertThat(Extension.kindOf(0)).isNull();
        Message.Batch batch = new Message.Batch(0, -1, List.of(new Message.Batch.Entry(1, 2, true, null,
                Extension.describe(Extension.SocketKind.STREAM, java.net.StandardProtocolFamily.UNIX))));
        byte[] wire = encoder.encode(batch);
        assertThat(wire).isEqualTo(bytes("1100 0000 0100 0100 ffffffff 10000000" + "01000000 02000000 00000000 01110000"));
        FileDescriptor fd = new FileDescriptor();
        assertThat(new MessageDecoder().decode(ByteBuffer.wrap(wire), fd).orElseThrow().message()).isEqualTo(batch);
    }

    @Test
    void aBatchOfMoreThan253SlotsIsRefused() {
        byte[] header = bytes("1100 0100 2c01 0000 ffffffff 00000000"); // count 300
        MessageDecoder decoder = new MessageDecoder();
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(header)))
                .isInstanceOfSatisfying(DecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DecodeException.Reason.BAD_LENGTH);
                    assertThat(e).hasMessageContaining("300 slots").hasMessageContaining("0..253");
                });
        List<Message.Batch.Entry> entries = new ArrayList<>(Collections.nCopies(254, new Message.Batch.Entry(0, 0, false, null)));
        assertThatThrownBy(() -> encoder.encode(new Message.Batch(0, -1, entries))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fewerDescriptorsThanTheBatchAnnouncesIsRefusedAndTheArrivedOnesAreHandedBack() throws Exception {
        byte[] wire = encoder.encode(new Message.Batch(0, -1, List.of(new Message.Batch.Entry(1, 5, true, null),
                new Message.Batch.Entry(2, 6, true, null))));
        FileDescriptor only = new FileDescriptor();
        MessageDecoder decoder = new MessageDecoder();
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(wire), only))
                .isInstanceOfSatisfying(DecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DecodeException.Reason.BAD_BATCH);
                    assertThat(e).hasMessage("BLK announces 2 descriptors; 2 entries have one and 1 arrived");
                });
        assertThat(decoder.releaseDescriptors()).containsExactly(only);
    }

    @Test
    void moreDescriptorsThanTheBatchAnnouncesIsRefused() throws Exception {
        byte[] wire = encoder.encode(new Message.Batch(0, -1, List.of(new Message.Batch.Entry(1, 5, true, null))));
        MessageDecoder decoder = new MessageDecoder();
        FileDescriptor a = new FileDescriptor();
        FileDescriptor b = new FileDescriptor();
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(wire), a, b))
                .isInstanceOfSatisfying(DecodeException.class,
                        e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.TOO_MANY_DESCRIPTORS));
        assertThat(decoder.releaseDescriptors()).containsExactly(a, b);
    }

    @Test
    void entriesThatDoNotAddUpToTheBatchSizeAreRefused() {
        // One entry announcing 9 payload bytes in a batch of 16 + 2 bytes.
        byte[] wire = bytes("1100 0000 0100 0000 ffffffff 12000000" + "01000000 ffffffff 09000000 00000000 6869");
        assertThatThrownBy(() -> new MessageDecoder().decode(ByteBuffer.wrap(wire)))
                .isInstanceOfSatisfying(DecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DecodeException.Reason.BAD_BATCH);
                    assertThat(e).hasMessageContaining("announces 9 payload bytes; 2 are left");
                });
    }

    @Test
    void aTruncatedBatchLeavesTheDecoderInsideAMessage() throws Exception {
        byte[] wire = encoder.encode(new Message.Batch(0, -1, List.of(new Message.Batch.Entry(1, 5, true, new byte[100]))));
        MessageDecoder decoder = new MessageDecoder();
        FileDescriptor fd = new FileDescriptor();
        assertThat(decoder.decode(ByteBuffer.wrap(wire, 0, wire.length - 1), fd)).isEmpty();
        assertThat(decoder.inMessage()).isTrue();
        assertThat(decoder.bytesWanted()).isEqualTo(1);
        assertThat(decoder.releaseDescriptors()).containsExactly(fd);
    }
}
