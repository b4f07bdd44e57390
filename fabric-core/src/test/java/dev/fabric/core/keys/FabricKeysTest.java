package dev.fabric.core.keys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FabricKeysTest {

    @TempDir
    Path dir;

    @Test
    void writtenKeysReadBackAndThePrivateKeyFileIsOwnerOnly() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        Path keyDir = dir.resolve("keys");
        keys.writeTo(keyDir);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyDir.resolve(FabricKeys.PRIVATE_KEY_FILE))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyDir))).isEqualTo("rwx------");
        assertThat(Files.readString(keyDir.resolve(FabricKeys.PRIVATE_KEY_FILE))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(Files.readString(keyDir.resolve(FabricKeys.PUBLIC_KEY_FILE))).startsWith("-----BEGIN PUBLIC KEY-----");

        FabricKeys loaded = FabricKeys.load(keyDir);
        assertThat(loaded.keyId()).isEqualTo(keys.keyId());
        assertThat(loaded.privateKeyDer()).isEqualTo(keys.privateKeyDer());
    }

    @Test
    void aVersion2PrivateKeyFromEarlierReleasesStillLoads() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        // Earlier releases wrote Bouncy Castle's own encoding: RFC 5958 version 2, public key appended.
        var version1 = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(keys.privateKeyDer());
        byte[] version2 = new org.bouncycastle.asn1.pkcs.PrivateKeyInfo(version1.getPrivateKeyAlgorithm(),
                version1.parsePrivateKey(), null,
                org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(keys.publicKey().getEncoded()).getPublicKeyData().getOctets())
                .getEncoded("DER");
        assertThat(org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(version2).hasPublicKey()).isTrue();
        Files.writeString(dir.resolve(FabricKeys.PRIVATE_KEY_FILE), Pem.encode("PRIVATE KEY", version2));
        Files.setPosixFilePermissions(dir.resolve(FabricKeys.PRIVATE_KEY_FILE), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve(FabricKeys.PUBLIC_KEY_FILE), keys.publicKeyPem());

        FabricKeys loaded = FabricKeys.load(dir);

        assertThat(loaded.keyId()).isEqualTo(keys.keyId());
        assertThat(loaded.privateKeyPem()).isEqualTo(keys.privateKeyPem());
    }

    @Test
    void thePrivateKeyIsWrittenAsPkcs8Version1WithoutThePublicKey() throws Exception {
        FabricKeys keys = FabricKeys.generate();

        var info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(Pem.decode(keys.privateKeyPem(), "PRIVATE KEY"));

        assertThat(info.getVersion().intValueExact()).isZero();
        assertThat(info.hasPublicKey()).isFalse();
        assertThat(keys.privateKeyDer()).hasSize(48);
    }

    @Test
    void loadOrGenerateKeepsTheFirstPair() {
        FabricKeys first = FabricKeys.loadOrGenerate(dir.resolve("k"));
        FabricKeys second = FabricKeys.loadOrGenerate(dir.resolve("k"));
        assertThat(second.keyId()).isEqualTo(first.keyId());
    }

    @Test
    void privateKeyReadableByOthersIsRefusedWithTheFix() throws Exception {
        FabricKeys.generate().writeTo(dir);
        Path privateFile = dir.resolve(FabricKeys.PRIVATE_KEY_FILE);
        Files.setPosixFilePermissions(privateFile, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> FabricKeys.load(dir))
                .isInstanceOf(FabricKeysException.class)
                .hasMessageContaining("readable by others")
                .hasMessageContaining("chmod 600");
    }

    @Test
    void mountedKubernetesSecretLoads() throws Exception {
        // The kubelet's layout: files are links into ..data, which links to a timestamped directory; mode 0644.
        FabricKeys keys = FabricKeys.generate();
        Path real = Files.createDirectory(dir.resolve("..2026_11_21_12_00_00.1234"));
        Files.writeString(real.resolve("fabric.key"), keys.privateKeyPem());
        Files.writeString(real.resolve("fabric.pub"), keys.publicKeyPem());
        Files.setPosixFilePermissions(real.resolve("fabric.key"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(dir.resolve("..data"), real.getFileName());
        Files.createSymbolicLink(dir.resolve("fabric.key"), Path.of("..data/fabric.key"));
        Files.createSymbolicLink(dir.resolve("fabric.pub"), Path.of("..data/fabric.pub"));

        assertThat(FabricKeys.loadSecretMount(dir).keyId()).isEqualTo(keys.keyId());
    }

    @Test
    void missingFileIsNamed() {
        assertThatThrownBy(() -> FabricKeys.load(dir))
                .isInstanceOf(FabricKeysException.class)
                .hasMessageContaining(FabricKeys.PRIVATE_KEY_FILE);
    }

    @Test
    void publicKeyOfAnotherPairIsRefused() {
        FabricKeys a = FabricKeys.generate();
        FabricKeys b = FabricKeys.generate();
        assertThatThrownBy(() -> FabricKeys.fromPem(a.privateKeyPem(), b.publicKeyPem()))
                .isInstanceOf(FabricKeysException.class)
                .hasMessageContaining("does not belong");
    }

    @Test
    void garbageIsRefusedClearly() {
        assertThatThrownBy(() -> FabricKeys.fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "nothing"))
                .isInstanceOf(FabricKeysException.class);
    }

    @Test
    void toStringShowsNoKeyMaterial() {
        FabricKeys keys = FabricKeys.generate();
        String body = keys.privateKeyPem().lines().skip(1).findFirst().orElseThrow();
        assertThat(keys.toString()).contains(keys.keyId()).doesNotContain(body);
    }
}
