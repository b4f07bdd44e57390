package dev.fabric.spawner.reach;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The reverse channel's frames, byte for byte (docs/connectivity.md, "The wire"). */
class RelayFrameCodecTest {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void aWelcomeIsItsTagAndTheBridgeId() {
        byte[] bytes = RelayFrameEncoder.encode(new RelayFrame.Welcome("br-1"));
        assertThat(HEX.formatHex(bytes)).isEqualTo("01" + "00000004" + HEX.formatHex("br-1".getBytes(StandardCharsets.US_ASCII)));
        assertThat(RelayFrameDecoder.decode(ByteBuffer.wrap(bytes))).isEqualTo(new RelayFrame.Welcome("br-1"));
    }

    @Test
    void aRequestCarriesItsTargetHeadersAndBodyUnchanged() {
        RelayFrame.Request request = new RelayFrame.Request(7, "POST", "http://127.0.0.1:4100/queue/v1/messages",
                List.of(new RelayFrame.Header("Signature", "fabric=:AAE=:"), new RelayFrame.Header("Content-Digest", "sha-256=:x:")),
                "{\"body\":\"a\"}".getBytes(StandardCharsets.UTF_8));
        byte[] bytes = RelayFrameEncoder.encode(request);
        assertThat(HEX.formatHex(bytes, 0, 9)).isEqualTo("02" + "0000000000000007");
        RelayFrame.Request decoded = (RelayFrame.Request) RelayFrameDecoder.decode(ByteBuffer.wrap(bytes));
        assertThat(decoded.id()).isEqualTo(7);
        assertThat(decoded.method()).isEqualTo("POST");
        assertThat(decoded.target()).isEqualTo(request.target());
        assertThat(decoded.headers()).isEqualTo(request.headers());
        assertThat(decoded.body()).isEqualTo(request.body());
    }

    @Test
    void aResponseCarriesItsStatus() {
        byte[] bytes = RelayFrameEncoder.encode(new RelayFrame.Response(9, 204, List.of(), new byte[0]));
        assertThat(HEX.formatHex(bytes)).isEqualTo("03" + "0000000000000009" + "00cc" + "0000" + "00000000");
        RelayFrame.Response decoded = (RelayFrame.Response) RelayFrameDecoder.decode(ByteBuffer.wrap(bytes));
        assertThat(decoded.status()).isEqualTo(204);
        assertThat(decoded.body()).isEmpty();
    }

    @Test
    void truncatedUnknownAndTrailingBytesAreRefused() {
        byte[] whole = RelayFrameEncoder.encode(new RelayFrame.Welcome("br-1"));
        assertThatThrownBy(() -> RelayFrameDecoder.decode(ByteBuffer.wrap(whole, 0, whole.length - 1)))
                .isInstanceOf(RelayFrameDecoder.MalformedFrameException.class).hasMessageContaining("does not fit");
        assertThatThrownBy(() -> RelayFrameDecoder.decode(ByteBuffer.wrap(HEX.parseHex("09"))))
                .isInstanceOf(RelayFrameDecoder.MalformedFrameException.class).hasMessageContaining("unknown frame tag 9");
        byte[] trailing = java.util.Arrays.copyOf(whole, whole.length + 1);
        assertThatThrownBy(() -> RelayFrameDecoder.decode(ByteBuffer.wrap(trailing)))
                .isInstanceOf(RelayFrameDecoder.MalformedFrameException.class).hasMessageContaining("1 bytes follow");
        assertThatThrownBy(() -> RelayFrameDecoder.decode(ByteBuffer.wrap(HEX.parseHex("030000000000000001" + "0001" + "0000" + "00000000"))))
                .isInstanceOf(RelayFrameDecoder.MalformedFrameException.class).hasMessageContaining("not an HTTP status");
    }
}
