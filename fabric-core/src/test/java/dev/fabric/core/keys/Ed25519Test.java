package dev.fabric.core.keys;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Ed25519} against the JDK's own implementation (SunEC) and RFC 8032's test vectors: plain
 * signatures any implementation verifies, the standard key encodings, and no Bouncy Castle JCA provider.
 */
class Ed25519Test {

    private static final byte[] DATA = "\"@method\": POST\n\"@path\": /api/v1/heartbeats\n".getBytes(StandardCharsets.US_ASCII);

    /** RFC 8410's id-Ed25519. */
    private static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");

    // RFC 8032, section 7.1, TEST 2: one byte of message.
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] RFC_SEED = HEX.parseHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    private static final byte[] RFC_PUBLIC = HEX.parseHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    private static final byte[] RFC_MESSAGE = HEX.parseHex("72");
    private static final byte[] RFC_SIGNATURE = HEX.parseHex(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                    + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");

    @Test
    void theJdkVerifiesOurSignaturesAndWeVerifyTheJdks() throws Exception {
        KeyPair ours = Ed25519.generate();
        PublicKey oursAsJdk = jdk().generatePublic(new X509EncodedKeySpec(ours.getPublic().getEncoded()));
        PrivateKey oursPrivateAsJdk = jdk().generatePrivate(new PKCS8EncodedKeySpec(Ed25519.pkcs8(ours.getPrivate())));

        assertThat(jdkVerify(oursAsJdk, DATA, Ed25519.sign(ours.getPrivate(), DATA))).isTrue();
        assertThat(Ed25519.verify(ours.getPublic(), DATA, jdkSign(oursPrivateAsJdk, DATA))).isTrue();
        // Ed25519 is deterministic: the same key signs the same data alike in both.
        assertThat(Ed25519.sign(ours.getPrivate(), DATA)).isEqualTo(jdkSign(oursPrivateAsJdk, DATA));
        // Our key objects are the JDK's EdEC keys too: its Signature takes them as they are.
        assertThat(jdkVerify(ours.getPublic(), DATA, jdkSign(ours.getPrivate(), DATA))).isTrue();
    }

    @Test
    void keysMadeByTheJdkAreAdoptedAndWork() throws Exception {
        KeyPair jdk = KeyPairGenerator.getInstance("Ed25519", "SunEC").generateKeyPair();

        PrivateKey privateKey = Ed25519.adopt(jdk.getPrivate());
        PublicKey publicKey = Ed25519.adopt(jdk.getPublic());

        assertThat(Ed25519.adopt(privateKey)).isSameAs(privateKey);
        assertThat(Ed25519.adopt(publicKey)).isSameAs(publicKey);
        assertThat(publicKey.getEncoded()).isEqualTo(jdk.getPublic().getEncoded());
        assertThat(Ed25519.pkcs8(privateKey)).isEqualTo(jdk.getPrivate().getEncoded());
        byte[] signature = Ed25519.sign(jdk.getPrivate(), DATA);
        assertThat(Ed25519.verify(jdk.getPublic(), DATA, signature)).isTrue();
        assertThat(jdkVerify(jdk.getPublic(), DATA, signature)).isTrue();
    }

    @Test
    void theRfc8032TestVectorSignsAndVerifies() throws Exception {
        PrivateKey privateKey = Ed25519.privateKey(pkcs8Version1(RFC_SEED));
        PublicKey publicKey = Ed25519.publicKey(spki(RFC_PUBLIC));

        assertThat(Ed25519.sign(privateKey, RFC_MESSAGE)).isEqualTo(RFC_SIGNATURE);
        assertThat(Ed25519.verify(publicKey, RFC_MESSAGE, RFC_SIGNATURE)).isTrue();
    }

    @Test
    void pkcs8IsWrittenAsVersion1AndVersion1And2AreRead() throws Exception {
        byte[] version1 = pkcs8Version1(RFC_SEED);
        byte[] version2 = new PrivateKeyInfo(new AlgorithmIdentifier(ID_ED25519),
                new DEROctetString(RFC_SEED), null, RFC_PUBLIC).getEncoded("DER");

        PrivateKey fromVersion1 = Ed25519.privateKey(version1);
        PrivateKey fromVersion2 = Ed25519.privateKey(version2);

        assertThat(Ed25519.pkcs8(fromVersion1)).isEqualTo(version1).hasSize(48);
        assertThat(Ed25519.pkcs8(fromVersion2)).isEqualTo(version1);
        assertThat(Ed25519.sign(fromVersion2, RFC_MESSAGE)).isEqualTo(RFC_SIGNATURE);
        assertThat(Ed25519.publicKey(spki(RFC_PUBLIC)).getEncoded()).isEqualTo(spki(RFC_PUBLIC));
    }

    @Test
    void aWrongKeyTamperedDataOrABadSignatureDoNotVerify() throws Exception {
        KeyPair pair = Ed25519.generate();
        byte[] signature = Ed25519.sign(pair.getPrivate(), DATA);
        byte[] tampered = DATA.clone();
        tampered[3] ^= 1;
        byte[] flipped = signature.clone();
        flipped[10] ^= 1;

        assertThat(Ed25519.verify(pair.getPublic(), DATA, signature)).isTrue();
        assertThat(Ed25519.verify(Ed25519.generate().getPublic(), DATA, signature)).isFalse();
        assertThat(Ed25519.verify(pair.getPublic(), tampered, signature)).isFalse();
        assertThat(Ed25519.verify(pair.getPublic(), DATA, flipped)).isFalse();
        assertThat(Ed25519.verify(pair.getPublic(), DATA, Arrays.copyOf(signature, 63))).isFalse();
        assertThat(Ed25519.verify(pair.getPublic(), DATA, Arrays.copyOf(signature, 65))).isFalse();
        assertThat(Ed25519.verify(pair.getPublic(), DATA, new byte[0])).isFalse();
    }

    @Test
    void keysOfAnotherAlgorithmOrBrokenEncodingsAreRefused() throws Exception {
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();

        assertThatThrownBy(() -> Ed25519.verify(rsa.getPublic(), DATA, new byte[64])).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> Ed25519.sign(rsa.getPrivate(), DATA)).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> Ed25519.publicKey(rsa.getPublic().getEncoded())).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> Ed25519.privateKey(rsa.getPrivate().getEncoded())).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> Ed25519.publicKey(new byte[] {1, 2, 3})).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> Ed25519.privateKey(new byte[] {1, 2, 3})).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void keysCompareByTheirEncodings() throws Exception {
        KeyPair pair = Ed25519.generate();

        assertThat(Ed25519.publicKey(pair.getPublic().getEncoded())).isEqualTo(pair.getPublic())
                .hasSameHashCodeAs(pair.getPublic());
        assertThat(Ed25519.privateKey(Ed25519.pkcs8(pair.getPrivate()))).isEqualTo(pair.getPrivate());
        assertThat(pair.getPublic().getFormat()).isEqualTo("X.509");
        assertThat(pair.getPrivate().getFormat()).isEqualTo("PKCS#8");
    }

    /**
     * Generating, reading, signing and verifying load no Bouncy Castle JCA provider: the full one
     * registers some 2,000 algorithms (6 to 7 MiB in every member and in the registry). In a JVM of
     * its own, since other tests may load anything.
     */
    @Test
    void noBouncyCastleProviderIsLoaded() throws Exception {
        Path log = Files.createTempFile("ed25519-classes", ".log");
        try {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xlog:class+load=info:file=" + log, "-cp", System.getProperty("java.class.path"),
                    UseEverything.class.getName()));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as(output).isZero();
            assertThat(output).contains("verified");
            List<String> loaded = Files.readAllLines(log);
            assertThat(loaded).anyMatch(line -> line.contains("org.bouncycastle.crypto.signers.Ed25519Signer")
                    || line.contains("org.bouncycastle.math.ec.rfc8032.Ed25519 "));
            assertThat(loaded).noneMatch(line -> line.contains("org.bouncycastle.jcajce.")
                    || line.contains("org.bouncycastle.jce."));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** What {@link #noBouncyCastleProviderIsLoaded()} runs in its own JVM. */
    public static final class UseEverything {
        public static void main(String[] args) throws Exception {
            KeyPair pair = Ed25519.generate();
            PrivateKey privateKey = Ed25519.privateKey(Ed25519.pkcs8(pair.getPrivate()));
            PublicKey publicKey = Ed25519.publicKey(pair.getPublic().getEncoded());
            KeyPair jdk = KeyPairGenerator.getInstance("Ed25519", "SunEC").generateKeyPair();
            boolean ok = Ed25519.verify(publicKey, DATA, Ed25519.sign(privateKey, DATA))
                    && Ed25519.verify(jdk.getPublic(), DATA, Ed25519.sign(jdk.getPrivate(), DATA))
                    && FabricKeys.fromDer(Ed25519.pkcs8(privateKey), publicKey.getEncoded()).keyId() != null;
            System.out.println(ok ? "verified" : "not verified");
        }
    }

    private static byte[] pkcs8Version1(byte[] seed) throws Exception {
        return new PrivateKeyInfo(new AlgorithmIdentifier(ID_ED25519), new DEROctetString(seed))
                .getEncoded("DER");
    }

    private static byte[] spki(byte[] point) throws Exception {
        return new SubjectPublicKeyInfo(new AlgorithmIdentifier(ID_ED25519), point).getEncoded("DER");
    }

    private static KeyFactory jdk() throws GeneralSecurityException {
        return KeyFactory.getInstance("Ed25519", "SunEC");
    }

    private static byte[] jdkSign(PrivateKey key, byte[] data) throws GeneralSecurityException {
        Signature signature = Signature.getInstance("Ed25519", "SunEC");
        signature.initSign(key);
        signature.update(data);
        return signature.sign();
    }

    private static boolean jdkVerify(PublicKey key, byte[] data, byte[] signatureBytes) throws GeneralSecurityException {
        Signature signature = Signature.getInstance("Ed25519", "SunEC");
        signature.initVerify(key);
        signature.update(data);
        return signature.verify(signatureBytes);
    }
}
