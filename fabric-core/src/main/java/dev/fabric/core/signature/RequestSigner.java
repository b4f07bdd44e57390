package dev.fabric.core.signature;

import dev.fabric.core.keys.FabricKeys;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Signs outgoing requests with the fabric private key: a signature labelled {@value #LABEL}
 * covering {@code @method}, {@code @target-uri} and, for a request with a body,
 * {@code content-digest}, with the parameters {@code created}, {@code nonce} (128 random bits),
 * {@code keyid} and {@code alg="ed25519"}.
 */
public final class RequestSigner {

    public static final String LABEL = "fabric";

    private final FabricKeys keys;
    private final Clock clock;
    private final SecureRandom random;

    public RequestSigner(FabricKeys keys, Clock clock) {
        this(keys, clock, new SecureRandom());
    }

    public RequestSigner(FabricKeys keys, Clock clock, SecureRandom random) {
        this.keys = keys;
        this.clock = clock;
        this.random = random;
    }

    /**
     * Computes the header fields to add to a request.
     *
     * @param body the body as sent, empty when there is none
     * @return {@code Content-Digest} (when there is a body), {@code Signature-Input} and {@code Signature}, in that order
     */
    public Map<String, String> sign(String method, URI target, Map<String, List<String>> headers, byte[] body) {
        Map<String, String> added = new LinkedHashMap<>();
        List<StructuredFields.Item> components = new ArrayList<>();
        components.add(StructuredFields.Item.of("@method"));
        components.add(StructuredFields.Item.of("@target-uri"));
        Map<String, List<String>> all = new LinkedHashMap<>(headers);
        if (body.length > 0) {
            String digest = ContentDigest.sha256(body);
            added.put("Content-Digest", digest);
            all.put(ContentDigest.FIELD, List.of(digest));
            components.add(StructuredFields.Item.of(ContentDigest.FIELD));
        }
        byte[] nonce = new byte[16];
        random.nextBytes(nonce);
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("created", clock.instant().getEpochSecond());
        parameters.put("nonce", Base64.getUrlEncoder().withoutPadding().encodeToString(nonce));
        parameters.put("keyid", keys.keyId());
        parameters.put("alg", HttpMessageSignatures.ALGORITHM);
        StructuredFields.InnerList input = new StructuredFields.InnerList(components, parameters);

        String base = HttpMessageSignatures.signatureBase(new SignableRequest(method, target, all), input);
        byte[] signature = HttpMessageSignatures.sign(keys.privateKey(), base);
        added.put("Signature-Input", LABEL + "=" + StructuredFields.serialize(input));
        added.put("Signature", LABEL + "=" + StructuredFields.serialize(StructuredFields.Item.of(signature)));
        return added;
    }
}
