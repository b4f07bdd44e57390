package dev.fabric.core.keys;

import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client in another language reads the fabric's key files with standard tools: the real
 * {@code openssl} binary reads {@code fabric.key}, derives {@code fabric.pub} from it and verifies a
 * request signature the fabric made, its base rebuilt from the headers as docs/security.md says.
 *
 * <p>Skipped where {@code openssl} is absent, failed instead when {@code FABRIC_REQUIRE_OPENSSL=1}
 * (CI sets it; the rig script installs openssl).
 */
class OpenSslReadsFabricKeysTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void needsOpenssl() {
        boolean present;
        try {
            present = run("openssl", "version").exitCode == 0;
        } catch (IOException e) {
            present = false;
        }
        if (!present && "1".equals(System.getenv("FABRIC_REQUIRE_OPENSSL"))) {
            fail("openssl is not installed but FABRIC_REQUIRE_OPENSSL=1; run docker/base/rig.sh or apt-get install openssl");
        }
        assumeTrue(present, "openssl is not installed; skipped (apt-get install openssl runs it)");
    }

    @Test
    void opensslReadsThePrivateKeyAndDerivesTheSamePublicKey() throws Exception {
        FabricKeys.generate().writeTo(dir);

        Result derived = run("openssl", "pkey", "-in", dir.resolve("fabric.key").toString(), "-pubout");

        assertThat(derived.exitCode).as(derived.err).isZero();
        assertThat(derived.out).isEqualTo(Files.readString(dir.resolve("fabric.pub")));
    }

    @Test
    void theFabricPrivateKeyIsPkcs8Version1() throws Exception {
        FabricKeys.generate().writeTo(dir);

        Result parsed = run("openssl", "asn1parse", "-in", dir.resolve("fabric.key").toString());

        assertThat(parsed.exitCode).as(parsed.err).isZero();
        // version 0 (v1), the algorithm, the private key; no [1] public key as RFC 5958 v2 appends.
        assertThat(parsed.out).contains("INTEGER           :00").contains("ED25519").doesNotContain("cont [ 1 ]");
    }

    @Test
    void opensslVerifiesARequestSignatureTheFabricMade() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir);
        URI target = URI.create("http://127.0.0.1:8470/registry/v1/instances");
        byte[] body = "{\"type\":\"queue\"}".getBytes(StandardCharsets.UTF_8);

        Map<String, String> headers = new RequestSigner(keys, Clock.systemUTC()).sign("POST", target, Map.of(), body);

        // The signature base as a client in another language builds it (docs/security.md).
        String params = headers.get("Signature-Input").substring("fabric=".length());
        String base = "\"@method\": POST\n"
                + "\"@target-uri\": " + target + "\n"
                + "\"content-digest\": " + headers.get("Content-Digest") + "\n"
                + "\"@signature-params\": " + params;
        String signature = headers.get("Signature");
        byte[] signatureBytes = Base64.getDecoder().decode(signature.substring("fabric=:".length(), signature.length() - 1));
        Path baseFile = Files.writeString(dir.resolve("base"), base, StandardCharsets.UTF_8);
        Path signatureFile = Files.write(dir.resolve("signature"), signatureBytes);

        Result verified = run("openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", dir.resolve("fabric.pub").toString(),
                "-in", baseFile.toString(), "-sigfile", signatureFile.toString());

        assertThat(verified.exitCode).as(verified.out + verified.err).isZero();
        assertThat(verified.out).contains("Signature Verified Successfully");
    }

    @Test
    void aKeyPairWrittenByOpensslLoads() throws Exception {
        Path keyDir = Files.createDirectory(dir.resolve("keys"));
        Path privateFile = keyDir.resolve("fabric.key");
        assertThat(run("openssl", "genpkey", "-algorithm", "ed25519", "-out", privateFile.toString()).exitCode).isZero();
        assertThat(run("openssl", "pkey", "-in", privateFile.toString(), "-pubout", "-out", keyDir.resolve("fabric.pub").toString()).exitCode)
                .isZero();
        Files.setPosixFilePermissions(privateFile, PosixFilePermissions.fromString("rw-------"));

        FabricKeys loaded = FabricKeys.load(keyDir);

        assertThat(loaded.publicKeyPem()).isEqualTo(Files.readString(keyDir.resolve("fabric.pub")));
        assertThat(loaded.privateKeyPem()).isEqualTo(Files.readString(privateFile));
    }

    private record Result(int exitCode, String out, String err) {}

    private static Result run(String... command) throws IOException {
        Process process = new ProcessBuilder(List.of(command)).start();
        try {
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 30 s");
            }
            return new Result(process.exitValue(), out, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
