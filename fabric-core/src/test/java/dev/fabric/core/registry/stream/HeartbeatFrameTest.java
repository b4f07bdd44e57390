package dev.fabric.core.registry.stream;

import dev.fabric.core.sealing.KeySealing;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.KeyPair;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HeartbeatFrameTest {

    static Mac mac(int fill) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) fill);
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac;
    }

    @Test
    void aFrameIsItsFieldsBigEndianThenTheirHmac() throws Exception {
        byte[] frame = new HeartbeatFrame(1, 0x0102030405060708L, 3, "m1").seal(mac(7));
        assertThat(HexFormat.of().formatHex(frame, 0, 28)).isEqualTo(
                "01" + "0000000000000001" + "0102030405060708" + "0000000000000003" + "02" + "6d31");
        Mac check = mac(7);
        check.update(frame, 0, 28);
        assertThat(java.util.Arrays.copyOfRange(frame, 28, 60)).isEqualTo(check.doFinal());
        assertThat(HeartbeatFrame.open(frame, mac(7))).contains(new HeartbeatFrame(1, 0x0102030405060708L, 3, "m1"));
    }

    @Test
    void anyAlteredByteOrAnotherKeyFailsTheMac() throws Exception {
        byte[] frame = new HeartbeatFrame(9, 1_800_000_000_000L, 2, "queue-1").seal(mac(1));
        assertThat(HeartbeatFrame.open(frame, mac(2))).isEmpty();
        for (int i = 1; i < frame.length; i++) {
            if (i == 25) {
                continue; // the id length: a changed one is refused as malformed, below
            }
            byte[] altered = frame.clone();
            altered[i] ^= 1;
            assertThat(HeartbeatFrame.open(altered, mac(1))).as("byte %d altered", i).isEmpty();
        }
    }

    @Test
    void bytesThatAreNoFrameAreRefusedAsMalformed() throws Exception {
        byte[] frame = new HeartbeatFrame(1, 1, 1, "m1").seal(mac(1));
        byte[] otherVersion = frame.clone();
        otherVersion[0] = 2;
        byte[] wrongLength = frame.clone();
        wrongLength[25] = 3;
        assertThatThrownBy(() -> HeartbeatFrame.open(otherVersion, mac(1))).hasMessageContaining("version 2");
        assertThatThrownBy(() -> HeartbeatFrame.open(wrongLength, mac(1))).hasMessageContaining("id length");
        assertThatThrownBy(() -> HeartbeatFrame.open(new byte[10], mac(1))).hasMessageContaining("not 10");
    }

    @Test
    void bothSidesDeriveTheSameKeyOnlyForTheSameSession() {
        KeyPair member = KeySealing.newEphemeralKeyPair();
        KeyPair registry = KeySealing.newEphemeralKeyPair();
        byte[] m = member.getPublic().getEncoded();
        byte[] r = registry.getPublic().getEncoded();
        Mac memberSide = HeartbeatSessionKey.mac(member.getPrivate(), registry.getPublic(), m, r, "m1", 1, "s1");
        Mac registrySide = HeartbeatSessionKey.mac(registry.getPrivate(), member.getPublic(), m, r, "m1", 1, "s1");
        Mac otherSession = HeartbeatSessionKey.mac(registry.getPrivate(), member.getPublic(), m, r, "m1", 1, "s2");
        Mac otherIncarnation = HeartbeatSessionKey.mac(registry.getPrivate(), member.getPublic(), m, r, "m1", 2, "s1");
        byte[] frame = new HeartbeatFrame(1, 1, 1, "m1").seal(memberSide);
        assertThat(HeartbeatFrame.open(frame, registrySide)).isPresent();
        assertThat(HeartbeatFrame.open(frame, otherSession)).isEmpty();
        assertThat(HeartbeatFrame.open(frame, otherIncarnation)).isEmpty();
    }
}
