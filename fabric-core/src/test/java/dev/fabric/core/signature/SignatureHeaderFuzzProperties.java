package dev.fabric.core.signature;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.testsupport.MutableClock;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Random header values never make the parser or the verifier fail with anything but a rejection. */
class SignatureHeaderFuzzProperties {

    static final FabricKeys KEYS = FabricKeys.generate();
    static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-11-21T12:00:00Z"));
    static final SignatureVerifier VERIFIER = new SignatureVerifier(KeyResolver.of(Map.of(KEYS.keyId(), KEYS.publicKey())),
            VerificationPolicy.defaults(), new ReplayCache(100_000, CLOCK), CLOCK, ReceiverAuthorities.any());

    @Provide
    Arbitrary<String> headerValues() {
        Arbitrary<String> structured = Arbitraries.strings().withChars("()\";=:,?*-. abcAZ019@/+_\\\t").ofMaxLength(120);
        Arbitrary<String> anything = Arbitraries.strings().ofMaxLength(200);
        Arbitrary<String> nearlyValid = Arbitraries.of(
                "fabric=(\"@method\" \"@target-uri\");created=%d;nonce=\"n\";keyid=\"%s\";alg=\"ed25519\"",
                "fabric=:%s:", "fabric=(%s)", "fabric=(\"@method\");created=%s").flatMap(template ->
                Arbitraries.strings().ofMaxLength(40).map(fill -> template.replace("%d", fill).replace("%s", fill)));
        return Arbitraries.oneOf(structured, anything, nearlyValid);
    }

    @Property(tries = 1500)
    void parserOnlyEverRaisesStructuredFieldErrors(@ForAll("headerValues") String value) {
        Throwable thrown = catchThrowable(() -> StructuredFields.parseDictionary(value));
        assertThat(thrown).satisfiesAnyOf(
                t -> assertThat(t).isNull(),
                t -> assertThat(t).isInstanceOf(StructuredFields.StructuredFieldException.class));
    }

    @Property(tries = 1500)
    void verifierOnlyEverRejects(@ForAll("headerValues") String input, @ForAll("headerValues") String signature) {
        SignableRequest request = new SignableRequest("POST", URI.create("http://member:8080/x"),
                Map.of("Signature-Input", List.of(input), "Signature", List.of(signature)));
        Throwable thrown = catchThrowable(() -> VERIFIER.verify(request, new byte[] {1}));
        assertThat(thrown).isInstanceOf(SignatureRejectedException.class);
        assertThat(((SignatureRejectedException) thrown).rejection().status()).isEqualTo(401);
    }
}
