package dev.fabric.core.signature;

import dev.fabric.core.keys.Pem;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** RFC 9421 Appendix B.2.6 ("Signing a Request Using ed25519") with the key of B.1.4. */
class Rfc9421TestVectorTest {

    static final String PRIVATE_KEY = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
            -----END PRIVATE KEY-----
            """;
    static final String PUBLIC_KEY = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
            -----END PUBLIC KEY-----
            """;

    /** The test request of RFC 9421 Appendix B.2. */
    static SignableRequest request() {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Host", List.of("example.com"));
        headers.put("Date", List.of("Tue, 20 Apr 2021 02:07:55 GMT"));
        headers.put("Content-Type", List.of("application/json"));
        headers.put("Content-Digest", List.of("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"));
        headers.put("Content-Length", List.of("18"));
        headers.put("Signature-Input", List.of("sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" "
                + "\"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""));
        headers.put("Signature", List.of("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"));
        return new SignableRequest("POST", URI.create("https://example.com/foo?param=Value&Pet=dog"), headers);
    }

    static final String EXPECTED_BASE = """
            "date": Tue, 20 Apr 2021 02:07:55 GMT
            "@method": POST
            "@path": /foo
            "@authority": example.com
            "content-type": application/json
            "content-length": 18
            "@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519\"""";

    static final byte[] BODY = "{\"hello\": \"world\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @Test
    void reproducesTheRfcSignatureBase() {
        HttpMessageSignatures.FoundSignature found = HttpMessageSignatures.find(request(), "sig-b26", 8192);
        assertThat(HttpMessageSignatures.signatureBase(request(), found.input())).isEqualTo(EXPECTED_BASE);
    }

    @Test
    void verifiesTheRfcSignature() throws Exception {
        PublicKey publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Pem.decode(PUBLIC_KEY, "PUBLIC KEY")));
        HttpMessageSignatures.FoundSignature found = HttpMessageSignatures.find(request(), null, 8192);
        assertThat(found.label()).isEqualTo("sig-b26");
        assertThat(HttpMessageSignatures.verify(publicKey, HttpMessageSignatures.signatureBase(request(), found.input()), found.signature())).isTrue();
    }

    @Test
    void signingTheRfcBaseWithTheRfcKeyYieldsTheRfcSignature() throws Exception {
        // Ed25519 is deterministic: the same key and base give the RFC's exact bytes.
        PrivateKey privateKey = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(Pem.decode(PRIVATE_KEY, "PRIVATE KEY")));
        byte[] signature = HttpMessageSignatures.sign(privateKey, EXPECTED_BASE);
        assertThat(Base64.getEncoder().encodeToString(signature))
                .isEqualTo("wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==");
    }

    @Test
    void theRfcContentDigestMatchesItsBody() {
        ContentDigest.verify(request().field("content-digest").orElseThrow(), BODY);
    }

    @Test
    void theFabricPolicyStillRefusesTheRfcRequestBecauseItLacksANonce() throws Exception {
        PublicKey publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Pem.decode(PUBLIC_KEY, "PUBLIC KEY")));
        Clock then = Clock.fixed(Instant.ofEpochSecond(1618884473L + 5), ZoneOffset.UTC);
        SignatureVerifier verifier = new SignatureVerifier(KeyResolver.of(Map.of("test-key-ed25519", publicKey)),
                VerificationPolicy.defaults(), new ReplayCache(10, then), then, ReceiverAuthorities.any());
        assertThatThrownBy(() -> verifier.verify(request(), BODY))
                .isInstanceOfSatisfying(SignatureRejectedException.class, e -> assertThat(e.rejection()).isEqualTo(Rejection.INCOMPLETE));
    }
}
