package dev.fabric.core.sealing;

import java.util.Arrays;
import java.util.Base64;

/**
 * The fabric keys sealed to one receiver's ephemeral X25519 key: the sender's ephemeral public key
 * (SPKI), the AES-GCM nonce, and the ciphertext with its tag. Safe to send in the clear.
 */
public record SealedKeys(byte[] senderPublicKey, byte[] nonce, byte[] ciphertext) {

    public SealedKeys {
        senderPublicKey = senderPublicKey.clone();
        nonce = nonce.clone();
        ciphertext = ciphertext.clone();
    }

    @Override
    public byte[] senderPublicKey() {
        return senderPublicKey.clone();
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public byte[] ciphertext() {
        return ciphertext.clone();
    }

    /** The three parts as unpadded base64url, for a JSON body. */
    public Encoded encode() {
        Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
        return new Encoded(encoder.encodeToString(senderPublicKey), encoder.encodeToString(nonce), encoder.encodeToString(ciphertext));
    }

    /** The JSON-friendly form of {@link SealedKeys}. */
    public record Encoded(String senderPublicKey, String nonce, String ciphertext) {

        /** @throws SealingException when a part is not base64url */
        public SealedKeys decode() {
            try {
                Base64.Decoder decoder = Base64.getUrlDecoder();
                return new SealedKeys(decoder.decode(senderPublicKey), decoder.decode(nonce), decoder.decode(ciphertext));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new SealingException("sealed keys are not valid base64url", e);
            }
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SealedKeys s && Arrays.equals(senderPublicKey, s.senderPublicKey)
                && Arrays.equals(nonce, s.nonce) && Arrays.equals(ciphertext, s.ciphertext);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ciphertext);
    }

    @Override
    public String toString() {
        return "SealedKeys[" + ciphertext.length + " bytes]";
    }
}
