package dev.fabric.escrow.wire;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Byte fixtures of the C structs (x86-64/arm64, little-endian), one per message. */
class MessageEncoderTest {

    private final MessageEncoder encoder = new MessageEncoder();

    @BeforeAll
    static void littleEndianHost() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "fixtures are little-endian; the wire is native order");
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Test
    void addIsSixteenBytesOfHeaderThenThePayload() {
        byte[] bytes = encoder.encode(new Message.Add(3, 0x010203, 5, new byte[] {'h', 'i'}));
        assertThat(hex(bytes)).isEqualTo("0100" + "0300" + "03020100" + "05000000" + "02000000" + "6869");
    }

    @Test
    void payloadOnlyAddCarriesUfdMinusOne() {
        assertThat(hex(encoder.encode(new Message.Add(0, 0, -1, null))))
                .isEqualTo("0100" + "0000" + "00000000" + "ffffffff" + "00000000");
    }

    @Test
    void delAndGetAreEightBytes() {
        assertThat(hex(encoder.encode(new Message.Del(1, 7)))).isEqualTo("0200" + "0100" + "07000000");
        assertThat(hex(encoder.encode(new Message.Get(-1, 1 << 20)))).isEqualTo("0600" + "ffff" + "00001000");
    }

    @Test
    void tagIsFourBytes() {
        assertThat(hex(encoder.encode(new Message.Tag(31)))).isEqualTo("0400" + "1f00");
    }

    @Test
    void infIsTwelveBytesWithPadding() {
        assertThat(hex(encoder.encode(new Message.Inf(2, 300)))).isEqualTo("0500" + "0000" + "02000000" + "2c010000");
    }

    @Test
    void repCountsTheNulInItsLength() {
        assertThat(hex(encoder.encode(Message.Rep.ok()))).isEqualTo("0300" + "0000" + "0100" + "00");
        assertThat(hex(encoder.encode(new Message.Rep(-2, "No"))))
                .isEqualTo("0300" + "feff" + "0300" + "4e6f00");
    }

    @Test
    void helIsSixteenBytes() {
        assertThat(hex(encoder.encode(new Message.Hel(32, 1, 0x1122334455667788L))))
                .isEqualTo("0000" + "2000" + "01000000" + "8877665544332211");
    }

    @Test
    void fullPayloadIsAccepted() {
        assertThat(encoder.encode(new Message.Add(0, 0, 3, new byte[Limits.MAX_PAYLOAD]))).hasSize(16 + Limits.MAX_PAYLOAD);
    }

    @Test
    void valuesTheWireCannotCarryAreRefused() {
        assertThatThrownBy(() -> encoder.encode(new Message.Add(0, 0, 3, new byte[Limits.MAX_PAYLOAD + 1])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("over the limit");
        assertThatThrownBy(() -> encoder.encode(new Message.Tag(40_000))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("int16");
        assertThatThrownBy(() -> encoder.encode(new Message.Rep(0, "x".repeat(Limits.MAX_REPLY))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
