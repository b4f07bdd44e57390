package dev.fabric.core.keys;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import java.io.IOException;
import java.io.Serial;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyRep;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Optional;

/**
 * Ed25519 keys and signatures through Bouncy Castle's lightweight API ({@link Ed25519Signer}), not
 * through a JCA provider. Every fabric request is signed and verified, and on these machines the JDK's
 * own Ed25519 takes about 430 µs per signature or verification where Bouncy Castle takes 30 µs to sign
 * and 70 µs to verify; Bouncy Castle's JCA provider, though, registers some 2,000 algorithms (6 to
 * 7 MiB in every member and in the registry), and its Ed25519 {@code Signature} makes a full provider
 * of its own at first use. Keys keep the standard encodings (PKCS#8, SPKI), and the signatures are
 * plain RFC 8032 Ed25519: any implementation verifies them.
 *
 * <p>The key objects are this class's own {@link EdECPublicKey} and {@link EdECPrivateKey}, so the
 * JDK and other libraries take them as they are; each holds Bouncy Castle's parameters, decoded once
 * (a public key's point, a private key's public half), not at every signature or verification.
 */
public final class Ed25519 {

    /** RFC 8410's id-Ed25519: the algorithm of the keys' PKCS#8 and SPKI encodings. */
    private static final AlgorithmIdentifier ALGORITHM = new AlgorithmIdentifier(new ASN1ObjectIdentifier("1.3.101.112"));
    private static final String NAME = "Ed25519";
    private static final int KEY_SIZE = Ed25519PublicKeyParameters.KEY_SIZE;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ed25519() {}

    public static KeyPair generate() {
        Private privateKey = new Private(new Ed25519PrivateKeyParameters(RANDOM));
        return new KeyPair(privateKey.publicKey, privateKey);
    }

    /**
     * The private key as a PKCS#8 version 1 structure (RFC 5208: algorithm and private key, nothing
     * else), the form OpenSSL 3.0 and Python's cryptography read; earlier releases wrote RFC 5958
     * version 2, with the public key appended, which they refuse.
     */
    public static byte[] pkcs8(PrivateKey key) {
        try {
            return adopt(key).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode the Ed25519 private key as PKCS#8", e);
        }
    }

    /** Reads a PKCS#8 Ed25519 private key, version 1 (RFC 5208) or version 2 (RFC 5958, with the public key). */
    public static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
        try {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(pkcs8);
            requireEd25519(info.getPrivateKeyAlgorithm());
            byte[] seed = ASN1OctetString.getInstance(info.parsePrivateKey()).getOctets();
            if (seed.length != KEY_SIZE) {
                throw new InvalidKeySpecException("an Ed25519 private key has 32 bytes, not " + seed.length);
            }
            return new Private(new Ed25519PrivateKeyParameters(seed));
        } catch (IOException | RuntimeException e) {
            throw new InvalidKeySpecException("not a PKCS#8 Ed25519 private key: " + e.getMessage(), e);
        }
    }

    /** Reads an SPKI Ed25519 public key. */
    public static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
        try {
            SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(spki);
            requireEd25519(info.getAlgorithm());
            byte[] point = info.getPublicKeyData().getOctets();
            if (point.length != KEY_SIZE) {
                throw new InvalidKeySpecException("an Ed25519 public key has 32 bytes, not " + point.length);
            }
            return new Public(new Ed25519PublicKeyParameters(point));
        } catch (RuntimeException e) {
            throw new InvalidKeySpecException("not an SPKI Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** The same key as this implementation's object (keys made by another are re-read from their encoding). */
    public static PrivateKey adopt(PrivateKey key) throws GeneralSecurityException {
        return key instanceof Private ? key : privateKey(encoded(key));
    }

    /** The same key as this implementation's object. */
    public static PublicKey adopt(PublicKey key) throws GeneralSecurityException {
        return key instanceof Public ? key : publicKey(encoded(key));
    }

    public static byte[] sign(PrivateKey key, byte[] data) throws GeneralSecurityException {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, ((Private) adopt(key)).parameters);
        signer.update(data, 0, data.length);
        return signer.generateSignature();
    }

    /** Whether {@code signature} is the key's over {@code data}: false for any other signature, of any length. */
    public static boolean verify(PublicKey key, byte[] data, byte[] signature) throws GeneralSecurityException {
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, ((Public) adopt(key)).parameters);
        verifier.update(data, 0, data.length);
        return verifier.verifySignature(signature);
    }

    private static byte[] encoded(java.security.Key key) throws InvalidKeyException {
        byte[] encoded = key.getEncoded();
        if (encoded == null) {
            throw new InvalidKeyException("not an Ed25519 key: a " + key.getAlgorithm() + " key without an encoding");
        }
        return encoded;
    }

    private static void requireEd25519(AlgorithmIdentifier algorithm) throws InvalidKeySpecException {
        if (!ALGORITHM.getAlgorithm().equals(algorithm.getAlgorithm())) {
            throw new InvalidKeySpecException("not an Ed25519 key: algorithm " + algorithm.getAlgorithm());
        }
    }

    /** An Ed25519 public key: Bouncy Castle's parameters (the point decoded once) and its SPKI encoding. */
    private static final class Public implements EdECPublicKey {

        @Serial
        private static final long serialVersionUID = 1L;

        private final transient Ed25519PublicKeyParameters parameters;
        private final byte[] encoded;

        Public(Ed25519PublicKeyParameters parameters) {
            this.parameters = parameters;
            try {
                this.encoded = new SubjectPublicKeyInfo(ALGORITHM, parameters.getEncoded()).getEncoded("DER");
            } catch (IOException e) {
                throw new IllegalStateException("cannot encode an Ed25519 public key", e);
            }
        }

        @Override
        public String getAlgorithm() {
            return NAME;
        }

        @Override
        public String getFormat() {
            return "X.509";
        }

        @Override
        public byte[] getEncoded() {
            return encoded.clone();
        }

        @Override
        public NamedParameterSpec getParams() {
            return NamedParameterSpec.ED25519;
        }

        /** Serialized, it comes back as the JDK's own key (SunEC reads the standard encodings). */
        @Serial
        private Object writeReplace() {
            return new KeyRep(KeyRep.Type.PUBLIC, NAME, getFormat(), encoded);
        }

        /** RFC 8032's encoding: y little-endian, the top bit of the last byte x's parity. */
        @Override
        public EdECPoint getPoint() {
            byte[] point = parameters.getEncoded();
            boolean xOdd = (point[KEY_SIZE - 1] & 0x80) != 0;
            point[KEY_SIZE - 1] &= 0x7f;
            byte[] bigEndian = new byte[KEY_SIZE];
            for (int i = 0; i < KEY_SIZE; i++) {
                bigEndian[i] = point[KEY_SIZE - 1 - i];
            }
            return new EdECPoint(xOdd, new BigInteger(1, bigEndian));
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof PublicKey key && Arrays.equals(encoded, key.getEncoded());
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(encoded);
        }
    }

    /** An Ed25519 private key: Bouncy Castle's parameters (with the public half, computed once). */
    private static final class Private implements EdECPrivateKey {

        @Serial
        private static final long serialVersionUID = 1L;

        private final transient Ed25519PrivateKeyParameters parameters;
        private final transient Public publicKey;

        Private(Ed25519PrivateKeyParameters parameters) {
            this.parameters = parameters;
            this.publicKey = new Public(parameters.generatePublicKey());
        }

        @Override
        public String getAlgorithm() {
            return NAME;
        }

        @Override
        public String getFormat() {
            return "PKCS#8";
        }

        /** PKCS#8 version 1 (RFC 5208), as the JDK encodes its own. */
        @Override
        public byte[] getEncoded() {
            byte[] seed = parameters.getEncoded();
            try {
                return new PrivateKeyInfo(ALGORITHM, new DEROctetString(seed)).getEncoded("DER");
            } catch (IOException e) {
                throw new IllegalStateException("cannot encode an Ed25519 private key", e);
            } finally {
                Arrays.fill(seed, (byte) 0);
            }
        }

        @Override
        public NamedParameterSpec getParams() {
            return NamedParameterSpec.ED25519;
        }

        @Override
        public Optional<byte[]> getBytes() {
            return Optional.of(parameters.getEncoded());
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof PrivateKey key && MessageDigest.isEqual(getEncoded(), key.getEncoded());
        }

        @Override
        public int hashCode() {
            return publicKey.hashCode();
        }

        @Override
        public String toString() {
            return "Ed25519 private key";
        }

        @Serial
        private Object writeReplace() {
            return new KeyRep(KeyRep.Type.PRIVATE, NAME, getFormat(), getEncoded());
        }
    }
}
