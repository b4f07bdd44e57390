package dev.fabric.core.keys;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;

/**
 * Ed25519 keys and signatures through Bouncy Castle's provider, used explicitly (it is not installed
 * in the JVM's provider list). Every fabric request is signed and verified, and on these machines the
 * JDK's own Ed25519 takes about 430 µs per signature or verification where Bouncy Castle takes 30 µs
 * to sign and 70 µs to verify. Keys keep the standard encodings (PKCS#8, SPKI), and the signatures are
 * plain RFC 8032 Ed25519: any implementation verifies them.
 */
public final class Ed25519 {

    private static final Provider PROVIDER = new BouncyCastleProvider();
    private static final String ALGORITHM = "Ed25519";

    private Ed25519() {}

    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM, PROVIDER).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate Ed25519 keys", e);
        }
    }

    /**
     * The private key as a PKCS#8 version 1 structure (RFC 5208: algorithm and private key, nothing
     * else). Bouncy Castle encodes Ed25519 keys as RFC 5958 version 2, with the public key appended,
     * which OpenSSL 3.0 and Python's cryptography refuse; version 1 is what every tool reads.
     */
    public static byte[] pkcs8(PrivateKey key) {
        try {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
            return new PrivateKeyInfo(info.getPrivateKeyAlgorithm(), info.parsePrivateKey()).getEncoded("DER");
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot encode the Ed25519 private key as PKCS#8", e);
        }
    }

    /** Reads a PKCS#8 Ed25519 private key, version 1 (RFC 5208) or version 2 (RFC 5958, with the public key). */
    public static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM, PROVIDER).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    }

    /** Reads an SPKI Ed25519 public key. */
    public static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM, PROVIDER).generatePublic(new X509EncodedKeySpec(spki));
    }

    /** The same key as this provider's object (keys made by another provider are re-read from their encoding). */
    public static PrivateKey adopt(PrivateKey key) throws GeneralSecurityException {
        return key.getClass().getName().startsWith("org.bouncycastle.") ? key : privateKey(key.getEncoded());
    }

    /** The same key as this provider's object. */
    public static PublicKey adopt(PublicKey key) throws GeneralSecurityException {
        return key.getClass().getName().startsWith("org.bouncycastle.") ? key : publicKey(key.getEncoded());
    }

    public static byte[] sign(PrivateKey key, byte[] data) throws GeneralSecurityException {
        Signature signer = Signature.getInstance(ALGORITHM, PROVIDER);
        signer.initSign(adopt(key));
        signer.update(data);
        return signer.sign();
    }

    public static boolean verify(PublicKey key, byte[] data, byte[] signature) throws GeneralSecurityException {
        Signature verifier = Signature.getInstance(ALGORITHM, PROVIDER);
        verifier.initVerify(adopt(key));
        verifier.update(data);
        return verifier.verify(signature);
    }
}
