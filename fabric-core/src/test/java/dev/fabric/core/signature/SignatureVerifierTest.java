package dev.fabric.core.signature;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SignatureVerifierTest {

    static final URI TARGET = URI.create("http://registry.fabric:8080/instances/a1?state=RUNNING");
    static final byte[] BODY = "{\"state\":\"RUNNING\"}".getBytes(StandardCharsets.UTF_8);

    final FabricKeys keys = FabricKeys.generate();
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T12:00:00Z"));
    final ReplayCache replayCache = new ReplayCache(1000, clock);
    final SignatureVerifier verifier = new SignatureVerifier(KeyResolver.of(Map.of(keys.keyId(), keys.publicKey())),
            VerificationPolicy.defaults(), replayCache, clock, ReceiverAuthorities.any());

    Map<String, List<String>> signedHeaders(String method, URI target, byte[] body) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Content-Type", List.of("application/json"));
        new RequestSigner(keys, clock).sign(method, target, Map.of(), body).forEach((name, value) -> headers.put(name, List.of(value)));
        return headers;
    }

    SignableRequest signed(String method, URI target, byte[] body) {
        return new SignableRequest(method, target, signedHeaders(method, target, body));
    }

    static SignableRequest with(SignableRequest request, String field, String value) {
        Map<String, List<String>> headers = new LinkedHashMap<>(request.headers());
        headers.put(field.toLowerCase(java.util.Locale.ROOT), List.of(value));
        return new SignableRequest(request.method(), request.target(), headers);
    }

    /** Signs with a hand-made component list and parameters, for requests the normal signer never makes. */
    SignableRequest crafted(List<String> components, Map<String, Object> parameters, byte[] body, FabricKeys signingKeys) {
        return crafted(components, parameters, body, signingKeys, Map.of());
    }

    SignableRequest crafted(List<String> components, Map<String, Object> parameters, byte[] body, FabricKeys signingKeys,
                            Map<String, List<String>> extraHeaders) {
        Map<String, List<String>> headers = new LinkedHashMap<>(extraHeaders);
        if (body.length > 0) {
            headers.put("Content-Digest", List.of(ContentDigest.sha256(body)));
        }
        List<StructuredFields.Item> items = new ArrayList<>();
        components.forEach(c -> items.add(StructuredFields.Item.of(c)));
        StructuredFields.InnerList input = new StructuredFields.InnerList(items, parameters);
        SignableRequest unsigned = new SignableRequest("POST", TARGET, headers);
        byte[] signature = HttpMessageSignatures.sign(signingKeys.privateKey(), HttpMessageSignatures.signatureBase(unsigned, input));
        headers.put("Signature-Input", List.of("sig=" + StructuredFields.serialize(input)));
        headers.put("Signature", List.of("sig=" + StructuredFields.serialize(StructuredFields.Item.of(signature))));
        return new SignableRequest("POST", TARGET, headers);
    }

    Map<String, Object> goodParameters() {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("created", clock.instant().getEpochSecond());
        parameters.put("nonce", "n-" + System.nanoTime());
        parameters.put("keyid", keys.keyId());
        return parameters;
    }

    void assertRejected(SignableRequest request, byte[] body, Rejection reason) {
        assertThatThrownBy(() -> verifier.verify(request, body))
                .isInstanceOfSatisfying(SignatureRejectedException.class, e -> {
                    assertThat(e.rejection()).isEqualTo(reason);
                    assertThat(e.getMessage()).isNotBlank()
                            .doesNotContain(keys.privateKeyPem().lines().skip(1).findFirst().orElseThrow());
                });
    }

    @Test
    void signedRequestWithBodyIsAccepted() {
        VerifiedRequest verified = verifier.verify(signed("POST", TARGET, BODY), BODY);
        assertThat(verified.keyId()).isEqualTo(keys.keyId());
        assertThat(verified.coveredComponents()).containsExactly("@method", "@target-uri", "content-digest");
        assertThat(verified.label()).isEqualTo(RequestSigner.LABEL);
    }

    @Test
    void signedRequestWithoutBodyIsAccepted() {
        VerifiedRequest verified = verifier.verify(signed("GET", TARGET, new byte[0]), new byte[0]);
        assertThat(verified.coveredComponents()).containsExactly("@method", "@target-uri");
    }

    @Test
    void authorityPathAndQueryMayStandForTheTargetUri() {
        Map<String, Object> parameters = goodParameters();
        SignableRequest request = crafted(List.of("@method", "@authority", "@path", "@query", "content-digest"), parameters, BODY, keys);
        assertThat(verifier.verify(request, BODY).coveredComponents()).contains("@authority", "@path", "@query");
    }

    @Test
    void unsignedRequestIsRejected() {
        assertRejected(new SignableRequest("GET", TARGET, Map.of()), new byte[0], Rejection.UNSIGNED);
    }

    @Test
    void signatureWithoutSignatureInputIsMalformed() {
        Map<String, List<String>> headers = new LinkedHashMap<>(signed("GET", TARGET, new byte[0]).headers());
        headers.remove("signature-input");
        assertRejected(new SignableRequest("GET", TARGET, headers), new byte[0], Rejection.MALFORMED);
    }

    @Test
    void wrongBase64InTheSignatureIsMalformed() {
        assertRejected(with(signed("GET", TARGET, new byte[0]), "Signature", "fabric=:not*base64!:"), new byte[0], Rejection.MALFORMED);
    }

    @Test
    void signatureInputThatIsNotADictionaryIsMalformed() {
        assertRejected(with(signed("GET", TARGET, new byte[0]), "Signature-Input", "fabric=(\"@method\" unterminated"), new byte[0],
                Rejection.MALFORMED);
    }

    @Test
    void labelsThatDoNotPairAreMalformed() {
        assertRejected(with(signed("GET", TARGET, new byte[0]), "Signature", "other=:AAAA:"), new byte[0], Rejection.MALFORMED);
    }

    @Test
    void otherAlgorithmIsRejected() {
        SignableRequest request = signed("GET", TARGET, new byte[0]);
        String input = request.field("signature-input").orElseThrow().replace("alg=\"ed25519\"", "alg=\"rsa-pss-sha512\"");
        assertRejected(with(request, "Signature-Input", input), new byte[0], Rejection.UNSUPPORTED_ALGORITHM);
    }

    @Test
    void oversizedSignatureHeaderIsRejected() {
        SignableRequest request = signed("GET", TARGET, new byte[0]);
        String huge = request.field("signature-input").orElseThrow() + ";x=\"" + "a".repeat(9000) + "\"";
        assertRejected(with(request, "Signature-Input", huge), new byte[0], Rejection.HEADER_TOO_LARGE);
    }

    @Test
    void signatureNotCoveringTheMethodIsIncomplete() {
        assertRejected(crafted(List.of("@target-uri", "content-digest"), goodParameters(), BODY, keys), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void signatureNotCoveringTheTargetIsIncomplete() {
        assertRejected(crafted(List.of("@method", "@path", "content-digest"), goodParameters(), BODY, keys), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void bodyWithoutCoveredDigestIsIncomplete() {
        assertRejected(crafted(List.of("@method", "@target-uri"), goodParameters(), BODY, keys), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void signatureWithoutNonceIsIncomplete() {
        Map<String, Object> parameters = goodParameters();
        parameters.remove("nonce");
        assertRejected(crafted(List.of("@method", "@target-uri", "content-digest"), parameters, BODY, keys), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void signatureWithoutCreatedIsIncomplete() {
        Map<String, Object> parameters = goodParameters();
        parameters.remove("created");
        assertRejected(crafted(List.of("@method", "@target-uri", "content-digest"), parameters, BODY, keys), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void signatureWithoutKeyIdIsIncomplete() {
        Map<String, Object> parameters = goodParameters();
        parameters.remove("keyid");
        assertRejected(crafted(List.of("@method", "@target-uri", "content-digest"), parameters, BODY, keys), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void coveredFieldAbsentFromTheRequestIsIncomplete() {
        SignableRequest request = crafted(List.of("@method", "@target-uri", "content-digest", "x-fabric-role"), goodParameters(), BODY,
                keys, Map.of("X-Fabric-Role", List.of("queue")));
        // Signed with the field present, it would pass; a proxy that drops the field makes it incomplete.
        Map<String, List<String>> headers = new LinkedHashMap<>(request.headers());
        headers.remove("x-fabric-role");
        assertRejected(new SignableRequest("POST", TARGET, headers), BODY, Rejection.INCOMPLETE);
    }

    @Test
    void unknownKeyIsRejected() {
        FabricKeys stranger = FabricKeys.generate();
        Map<String, Object> parameters = goodParameters();
        parameters.put("keyid", stranger.keyId());
        assertRejected(crafted(List.of("@method", "@target-uri", "content-digest"), parameters, BODY, stranger), BODY, Rejection.UNKNOWN_KEY);
    }

    @Test
    void signatureMadeWithAnotherKeyUnderATrustedKeyIdIsRejected() {
        assertRejected(crafted(List.of("@method", "@target-uri", "content-digest"), goodParameters(), BODY, FabricKeys.generate()), BODY,
                Rejection.BAD_SIGNATURE);
    }

    @Test
    void tamperedBodyIsRejected() {
        SignableRequest request = signed("POST", TARGET, BODY);
        assertRejected(request, "{\"state\":\"DEAD\"}".getBytes(StandardCharsets.UTF_8), Rejection.DIGEST_MISMATCH);
    }

    @Test
    void tamperedDigestHeaderIsRejected() {
        byte[] other = "{\"state\":\"DEAD\"}".getBytes(StandardCharsets.UTF_8);
        SignableRequest request = with(signed("POST", TARGET, BODY), "Content-Digest", ContentDigest.sha256(other));
        assertRejected(request, other, Rejection.BAD_SIGNATURE);
    }

    @Test
    void tamperedTargetIsRejected() {
        SignableRequest request = signed("POST", TARGET, BODY);
        SignableRequest moved = new SignableRequest("POST", URI.create("http://registry.fabric:8080/instances/b2?state=RUNNING"),
                request.headers());
        assertRejected(moved, BODY, Rejection.BAD_SIGNATURE);
    }

    @Test
    void tamperedMethodIsRejected() {
        SignableRequest request = signed("POST", TARGET, BODY);
        assertRejected(new SignableRequest("DELETE", TARGET, request.headers()), BODY, Rejection.BAD_SIGNATURE);
    }

    @Test
    void requestCreatedBeforeTheSkewWindowIsRejected() {
        SignableRequest request = signed("GET", TARGET, new byte[0]);
        clock.advance(Duration.ofSeconds(31));
        assertRejected(request, new byte[0], Rejection.EXPIRED);
    }

    @Test
    void requestCreatedAfterTheSkewWindowIsRejected() {
        clock.advance(Duration.ofSeconds(45));
        SignableRequest fromTheFuture = signed("GET", TARGET, new byte[0]);
        clock.advance(Duration.ofSeconds(-45));
        assertRejected(fromTheFuture, new byte[0], Rejection.EXPIRED);
    }

    @Test
    void requestInsideTheSkewWindowIsAccepted() {
        SignableRequest request = signed("GET", TARGET, new byte[0]);
        clock.advance(Duration.ofSeconds(29));
        verifier.verify(request, new byte[0]);
    }

    @Test
    void replayedNonceIsRejected() {
        SignableRequest request = signed("POST", TARGET, BODY);
        verifier.verify(request, BODY);
        clock.advance(Duration.ofSeconds(5));
        assertRejected(request, BODY, Rejection.REPLAYED);
    }

    @Test
    void fullReplayCacheRefusesRatherThanForgets() {
        ReplayCache tiny = new ReplayCache(1, clock);
        SignatureVerifier strict = new SignatureVerifier(KeyResolver.of(Map.of(keys.keyId(), keys.publicKey())),
                VerificationPolicy.defaults(), tiny, clock, ReceiverAuthorities.any());
        SignableRequest first = signed("GET", TARGET, new byte[0]);
        strict.verify(first, new byte[0]);
        assertThatThrownBy(() -> strict.verify(signed("GET", TARGET, new byte[0]), new byte[0]))
                .isInstanceOfSatisfying(SignatureRejectedException.class,
                        e -> assertThat(e.rejection()).isEqualTo(Rejection.REPLAY_CACHE_FULL));
        // Once the first nonce has left the window there is room again.
        clock.advance(Duration.ofSeconds(31));
        strict.verify(signed("GET", TARGET, new byte[0]), new byte[0]);
        assertThat(tiny.size()).isEqualTo(1);
    }

    @Test
    void requestSignedForAnotherReceiverIsRejectedWithoutSpendingItsNonce() {
        SignatureVerifier registryA = new SignatureVerifier(KeyResolver.of(Map.of(keys.keyId(), keys.publicKey())),
                VerificationPolicy.defaults(), replayCache, clock, ReceiverAuthorities.of(List.of("registry-a.fabric:8080")));
        SignableRequest forB = signed("POST", URI.create("http://registry-b.fabric:8080/instances/a1"), BODY);
        assertThatThrownBy(() -> registryA.verify(forB, BODY)).isInstanceOfSatisfying(SignatureRejectedException.class,
                e -> assertThat(e.rejection()).isEqualTo(Rejection.WRONG_AUTHORITY));
        assertThat(replayCache.size()).isZero();
        registryA.verify(signed("POST", URI.create("http://REGISTRY-A.fabric:8080/instances/a1"), BODY), BODY);
    }

    @Test
    void rejectionReasonsAreDistinct() {
        assertThat(java.util.Arrays.stream(Rejection.values()).map(Rejection::code).distinct().count())
                .isEqualTo(Rejection.values().length);
    }
}
