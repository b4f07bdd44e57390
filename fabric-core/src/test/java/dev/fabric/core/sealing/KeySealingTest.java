package dev.fabric.core.sealing;

import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;

import java.security.KeyPair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeySealingTest {

    final FabricKeys keys = FabricKeys.generate();
    final KeyPair receiver = KeySealing.newEphemeralKeyPair();

    @Test
    void sealedKeysOpenForTheirReceiverAndService() {
        SealedKeys sealed = KeySealing.seal(keys, receiver.getPublic(), "svc-1");
        FabricKeys opened = KeySealing.open(sealed, receiver, "svc-1");
        assertThat(opened.keyId()).isEqualTo(keys.keyId());
        assertThat(opened.privateKeyDer()).isEqualTo(keys.privateKeyDer());
    }

    @Test
    void encodedFormRoundTrips() {
        SealedKeys sealed = KeySealing.seal(keys, receiver.getPublic(), "svc-1");
        SealedKeys decoded = sealed.encode().decode();
        assertThat(decoded).isEqualTo(sealed);
        assertThat(KeySealing.open(decoded, receiver, "svc-1").keyId()).isEqualTo(keys.keyId());
    }

    @Test
    void everyTamperedByteFailsToOpen() {
        SealedKeys sealed = KeySealing.seal(keys, receiver.getPublic(), "svc-1");
        byte[] ciphertext = sealed.ciphertext();
        for (int i = 0; i < ciphertext.length; i += 7) {
            byte[] tampered = ciphertext.clone();
            tampered[i] ^= 0x01;
            SealedKeys bad = new SealedKeys(sealed.senderPublicKey(), sealed.nonce(), tampered);
            assertThatThrownBy(() -> KeySealing.open(bad, receiver, "svc-1")).isInstanceOf(SealingException.class);
        }
        byte[] nonce = sealed.nonce();
        nonce[0] ^= 0x01;
        assertThatThrownBy(() -> KeySealing.open(new SealedKeys(sealed.senderPublicKey(), nonce, sealed.ciphertext()), receiver, "svc-1"))
                .isInstanceOf(SealingException.class);
        byte[] sender = KeySealing.newEphemeralKeyPair().getPublic().getEncoded();
        assertThatThrownBy(() -> KeySealing.open(new SealedKeys(sender, sealed.nonce(), sealed.ciphertext()), receiver, "svc-1"))
                .isInstanceOf(SealingException.class);
    }

    @Test
    void keysSealedForOneServiceDoNotOpenForAnother() {
        SealedKeys sealed = KeySealing.seal(keys, receiver.getPublic(), "svc-1");
        assertThatThrownBy(() -> KeySealing.open(sealed, receiver, "svc-2"))
                .isInstanceOf(SealingException.class)
                .hasMessageContaining("another key or service id");
    }

    @Test
    void keysSealedToAnotherReceiverDoNotOpen() {
        SealedKeys sealed = KeySealing.seal(keys, receiver.getPublic(), "svc-1");
        assertThatThrownBy(() -> KeySealing.open(sealed, KeySealing.newEphemeralKeyPair(), "svc-1")).isInstanceOf(SealingException.class);
    }

    @Test
    void malformedPartsAreRefusedClearly() {
        assertThatThrownBy(() -> new SealedKeys.Encoded("***", "AAAA", "AAAA").decode()).isInstanceOf(SealingException.class);
        assertThatThrownBy(() -> KeySealing.open(new SealedKeys(new byte[] {1, 2}, new byte[12], new byte[40]), receiver, "svc-1"))
                .isInstanceOf(SealingException.class);
        assertThatThrownBy(() -> KeySealing.open(new SealedKeys(receiver.getPublic().getEncoded(), new byte[3], new byte[40]), receiver, "s"))
                .isInstanceOf(SealingException.class);
    }

    @Test
    void sealedFormShowsNoKeyMaterial() {
        assertThat(KeySealing.seal(keys, receiver.getPublic(), "svc-1").toString()).doesNotContain("PRIVATE");
    }
}
