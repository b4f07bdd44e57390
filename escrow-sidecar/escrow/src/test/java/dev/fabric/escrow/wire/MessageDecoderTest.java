package dev.fabric.escrow.wire;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.FileDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The decoder parses by opcode, whatever the read sizes, and keeps a descriptor with its message. */
class MessageDecoderTest {

    @BeforeAll
    static void littleEndianHost() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "fixtures are little-endian; the wire is native order");
    }

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    @Test
    void decodesEachMessageFromItsFixture() throws Exception {
        assertThat(decodeOne("0100030003020100050000000200000068 69".replace(" ", "")))
                .isEqualTo(new Message.Add(3, 0x010203, 5, new byte[] {'h', 'i'}));
        assertThat(decodeOne("0200010007000000")).isEqualTo(new Message.Del(1, 7));
        assertThat(decodeOne("0600ffff00001000")).isEqualTo(new Message.Get(-1, 1 << 20));
        assertThat(decodeOne("04001f00")).isEqualTo(new Message.Tag(31));
        assertThat(decodeOne("05000000020000002c010000")).isEqualTo(new Message.Inf(2, 300));
        assertThat(decodeOne("0300feff03004e6f00")).isEqualTo(new Message.Rep(-2, "No"));
        assertThat(decodeOne("0000200001000000" + "8877665544332211")).isEqualTo(new Message.Hel(32, 1, 0x1122334455667788L));
    }

    @Test
    void repTextStopsAtTheFirstNul() throws Exception {
        assertThat(decodeOne("0300000004006f6b0078")).isEqualTo(new Message.Rep(0, "ok"));
        assertThat(decodeOne("030000000000")).isEqualTo(new Message.Rep(0, ""));
    }

    @Test
    void oneByteAtATimeGivesTheSameMessage() throws Exception {
        MessageEncoder encoder = new MessageEncoder();
        byte[] wire = encoder.encode(new Message.Add(2, 9, 4, "payload".getBytes()));
        MessageDecoder decoder = new MessageDecoder();
        Optional<Frame> frame = Optional.empty();
        for (int i = 0; i < wire.length; i++) {
            assertThat(frame).isEmpty();
            assertThat(decoder.bytesWanted()).isPositive();
            frame = decoder.decode(ByteBuffer.wrap(wire, i, 1));
        }
        assertThat(frame).map(Frame::message).contains(new Message.Add(2, 9, 4, "payload".getBytes()));
        assertThat(decoder.inMessage()).isFalse();
    }

    @Test
    void bytesWantedNeverReachesIntoTheNextMessage() throws Exception {
        MessageDecoder decoder = new MessageDecoder();
        assertThat(decoder.bytesWanted()).isEqualTo(2);
        decoder.decode(ByteBuffer.wrap(bytes("0100")));
        assertThat(decoder.bytesWanted()).isEqualTo(14);
        decoder.decode(ByteBuffer.wrap(bytes("0000" + "00000000" + "03000000" + "05000000")));
        assertThat(decoder.bytesWanted()).isEqualTo(5);
        decoder.decode(ByteBuffer.wrap(bytes("0102")));
        assertThat(decoder.bytesWanted()).isEqualTo(3);
        assertThat(decoder.decode(ByteBuffer.wrap(bytes("030405")))).isPresent();
        assertThat(decoder.bytesWanted()).isEqualTo(2);
    }

    @Test
    void twoMessagesInOneBufferComeOutOneAtATime() throws Exception {
        MessageDecoder decoder = new MessageDecoder();
        ByteBuffer in = ByteBuffer.wrap(bytes("0200010007000000" + "04000500"));
        assertThat(decoder.decode(in)).map(Frame::message).contains(new Message.Del(1, 7));
        assertThat(in.remaining()).isEqualTo(4);
        assertThat(decoder.decode(in)).map(Frame::message).contains(new Message.Tag(5));
    }

    @Test
    void descriptorThatArrivedWithTheFirstBytesIsHeldUntilTheMessageIsComplete() throws Exception {
        MessageDecoder decoder = new MessageDecoder();
        FileDescriptor fd = new FileDescriptor();
        assertThat(decoder.decode(ByteBuffer.wrap(bytes("0100")), fd)).isEmpty();
        assertThat(decoder.inMessage()).isTrue();
        assertThat(decoder.decode(ByteBuffer.wrap(bytes("0000" + "00000000" + "05000000" + "02000000")))).isEmpty();
        Frame complete = decoder.decode(ByteBuffer.wrap(bytes("6869"))).orElseThrow();
        assertThat(complete.descriptor()).isSameAs(fd);
        assertThat(complete.message()).isEqualTo(new Message.Add(0, 0, 5, new byte[] {'h', 'i'}));
        Frame next = decoder.decode(ByteBuffer.wrap(bytes("04000000"))).orElseThrow();
        assertThat(next.hasDescriptor()).as("the descriptor belongs to the ADD only").isFalse();
    }

    @Test
    void partialMessageHoldsItsDescriptorForRelease() throws Exception {
        MessageDecoder decoder = new MessageDecoder();
        FileDescriptor fd = new FileDescriptor();
        decoder.decode(ByteBuffer.wrap(bytes("010000")), fd);
        assertThat(decoder.inMessage()).isTrue();
        assertThat(decoder.releaseDescriptors()).containsExactly(fd);
        assertThat(decoder.releaseDescriptors()).isEmpty();
    }

    @Test
    void unknownOpcodeIsADecodeError() {
        MessageDecoder decoder = new MessageDecoder();
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(bytes("0900"))))
                .isInstanceOfSatisfying(DecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DecodeException.Reason.UNKNOWN_OPCODE);
                    assertThat(e.opcode()).isEqualTo(9);
                });
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(bytes("0000")))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new MessageDecoder().decode(ByteBuffer.wrap(bytes("ffff"))))
                .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.opcode()).isEqualTo(-1));
    }

    @Test
    void oversizedOrNegativeNobIsADecodeError() {
        assertThatThrownBy(() -> new MessageDecoder().decode(ByteBuffer.wrap(bytes("01000000000000000000000001800000"))))
                .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.BAD_LENGTH));
        assertThatThrownBy(() -> new MessageDecoder().decode(ByteBuffer.wrap(bytes("010000000000000000000000ffffffff"))))
                .isInstanceOf(DecodeException.class);
        assertThatThrownBy(() -> new MessageDecoder().decode(ByteBuffer.wrap(bytes("030000000104"))))
                .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.BAD_LENGTH));
    }

    @Test
    void aSecondDescriptorInOneMessageIsADecodeError() throws Exception {
        MessageDecoder decoder = new MessageDecoder();
        FileDescriptor a = new FileDescriptor();
        FileDescriptor b = new FileDescriptor();
        decoder.decode(ByteBuffer.wrap(bytes("0100")), a);
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(bytes("00")), b))
                .isInstanceOfSatisfying(DecodeException.class,
                        e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.TOO_MANY_DESCRIPTORS));
        assertThat(decoder.releaseDescriptors()).containsExactly(a, b);
    }

    @Test
    void encoderAndDecoderRoundTripEveryMessage() throws Exception {
        List<Message> messages = new ArrayList<>(List.of(new Message.Hel(1, 2, 3), new Message.Add(7, 8, 9, new byte[Limits.MAX_PAYLOAD]),
                new Message.Del(0, Limits.MAX_IDX - 1), new Message.Rep(-71, "Unexpected message type."), new Message.Tag(-5),
                new Message.Inf(0, 0), new Message.Get(32767, -1)));
        MessageEncoder encoder = new MessageEncoder();
        for (Message m : messages) {
            assertThat(new MessageDecoder().decode(ByteBuffer.wrap(encoder.encode(m))).map(Frame::message)).contains(m);
        }
    }

    private static Message decodeOne(String hex) throws Exception {
        MessageDecoder decoder = new MessageDecoder();
        ByteBuffer in = ByteBuffer.wrap(bytes(hex));
        Message m = decoder.decode(in).orElseThrow().message();
        return m;
    }
}
