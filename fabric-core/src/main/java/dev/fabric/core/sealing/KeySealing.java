package dev.fabric.core.sealing;

import dev.fabric.core.keys.FabricKeys;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KDF;
import javax.crypto.KeyAgreement;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.HKDFParameterSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * Seals the fabric keys for one new service during bootstrap, so they are safe on the wire even
 * without TLS.
 *
 * <p>The new service makes an ephemeral X25519 key pair and sends the public half with its one-time
 * password. The spawner makes its own ephemeral X25519 pair, derives a shared secret, stretches it
 * with HKDF-SHA256 (salt: both public keys; info: {@value #CONTEXT} and the service id) into an
 * AES-256 key, and encrypts the key pair with AES-GCM, the service id as associated data. Only the
 * holder of the receiver's ephemeral private key can open it, only for that service id, and any
 * change to the sealed bytes makes opening fail.
 */
public final class KeySealing {

    static final String CONTEXT = "fabric-keys/v1 ";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private KeySealing() {}

    /** An ephemeral X25519 key pair for one bootstrap. */
    public static KeyPair newEphemeralKeyPair() {
        try {
            return KeyPairGenerator.getInstance("X25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make X25519 keys", e);
        }
    }

    /** Reads an X25519 public key from its SPKI encoding. */
    public static PublicKey publicKeyFromSpki(byte[] spki) {
        try {
            return KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new SealingException("not an X25519 public key", e);
        }
    }

    /** Seals the fabric keys to the receiver's ephemeral public key, bound to the service id. */
    public static SealedKeys seal(FabricKeys keys, PublicKey receiverPublicKey, String serviceId) {
        KeyPair sender = newEphemeralKeyPair();
        byte[] senderSpki = sender.getPublic().getEncoded();
        byte[] nonce = new byte[NONCE_BYTES];
        new SecureRandom().nextBytes(nonce);
        byte[] plaintext = encodeKeys(keys);
        try {
            SecretKey aesKey = deriveKey(sender.getPrivate(), receiverPublicKey, senderSpki, receiverPublicKey.getEncoded(), serviceId);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(info(serviceId));
            return new SealedKeys(senderSpki, nonce, cipher.doFinal(plaintext));
        } catch (GeneralSecurityException e) {
            throw new SealingException("cannot seal the fabric keys: " + e.getMessage(), e);
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    /**
     * Opens sealed keys with the receiver's ephemeral key pair, for the service id they were sealed to.
     *
     * @throws SealingException when they were tampered with, sealed to another key or service, or are malformed
     */
    public static FabricKeys open(SealedKeys sealed, KeyPair receiver, String serviceId) {
        if (sealed.nonce().length != NONCE_BYTES) {
            throw new SealingException("sealed keys carry a nonce of " + sealed.nonce().length + " bytes, not " + NONCE_BYTES);
        }
        byte[] plaintext = null;
        try {
            PublicKey senderPublicKey = publicKeyFromSpki(sealed.senderPublicKey());
            SecretKey aesKey = deriveKey(receiver.getPrivate(), senderPublicKey, sealed.senderPublicKey(),
                    receiver.getPublic().getEncoded(), serviceId);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, aesKey, new GCMParameterSpec(TAG_BITS, sealed.nonce()));
            cipher.updateAAD(info(serviceId));
            plaintext = cipher.doFinal(sealed.ciphertext());
            return decodeKeys(plaintext);
        } catch (AEADBadTagException e) {
            throw new SealingException("the sealed keys do not open: tampered, or sealed to another key or service id", e);
        } catch (GeneralSecurityException e) {
            throw new SealingException("cannot open the sealed keys: " + e.getMessage(), e);
        } finally {
            if (plaintext != null) {
                Arrays.fill(plaintext, (byte) 0);
            }
        }
    }

    private static SecretKey deriveKey(PrivateKey ownPrivate, PublicKey peerPublic, byte[] senderSpki, byte[] receiverSpki,
                                       String serviceId) throws GeneralSecurityException {
        byte[] salt = ByteBuffer.allocate(senderSpki.length + receiverSpki.length).put(senderSpki).put(receiverSpki).array();
        return agree(ownPrivate, peerPublic, salt, info(serviceId), "AES");
    }

    /**
     * X25519 between one side's private key and the other's public key, stretched with HKDF-SHA256
     * into a 32-byte key for {@code algorithm}; the shared secret is wiped after.
     */
    public static SecretKey agree(PrivateKey ownPrivate, PublicKey peerPublic, byte[] salt, byte[] info, String algorithm)
            throws GeneralSecurityException {
        KeyAgreement agreement = KeyAgreement.getInstance("X25519");
        agreement.init(ownPrivate);
        agreement.doPhase(peerPublic, true);
        byte[] shared = agreement.generateSecret();
        try {
            KDF hkdf = KDF.getInstance("HKDF-SHA256");
            return hkdf.deriveKey(algorithm, HKDFParameterSpec.ofExtract().addIKM(shared).addSalt(salt).thenExpand(info, 32));
        } finally {
            Arrays.fill(shared, (byte) 0);
        }
    }

    private static byte[] info(String serviceId) {
        return (CONTEXT + serviceId).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] encodeKeys(FabricKeys keys) {
        byte[] privateDer = keys.privateKeyDer();
        byte[] publicDer = keys.publicKey().getEncoded();
        ByteBuffer buffer = ByteBuffer.allocate(4 + privateDer.length + publicDer.length);
        buffer.putShort((short) privateDer.length).put(privateDer).putShort((short) publicDer.length).put(publicDer);
        Arrays.fill(privateDer, (byte) 0);
        return buffer.array();
    }

    private static FabricKeys decodeKeys(byte[] plaintext) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(plaintext);
            byte[] privateDer = new byte[Short.toUnsignedInt(buffer.getShort())];
            buffer.get(privateDer);
            byte[] publicDer = new byte[Short.toUnsignedInt(buffer.getShort())];
            buffer.get(publicDer);
            if (buffer.hasRemaining()) {
                throw new SealingException("sealed keys hold trailing bytes");
            }
            return FabricKeys.fromDer(privateDer, publicDer);
        } catch (java.nio.BufferUnderflowException e) {
            throw new SealingException("sealed keys are truncated", e);
        }
    }
}
