package dev.fabric.core.signature;

import dev.fabric.core.keys.Ed25519;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * HTTP Message Signatures (RFC 9421) for requests, with {@code alg="ed25519"}: reading the
 * {@code Signature-Input} and {@code Signature} fields, building the signature base, and the
 * Ed25519 operation itself. This is the mechanism; {@link SignatureVerifier} adds the fabric's policy
 * (which components and parameters must be covered, clock skew, replay).
 */
public final class HttpMessageSignatures {

    public static final String SIGNATURE_INPUT = "signature-input";
    public static final String SIGNATURE = "signature";
    public static final String ALGORITHM = "ed25519";

    private static final Set<String> DERIVED = Set.of(
            "@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query");

    private HttpMessageSignatures() {}

    /** One signature found on a request: its label, the covered components with parameters, the bytes. */
    public record FoundSignature(String label, StructuredFields.InnerList input, byte[] signature) {

        /** A signature parameter such as {@code created}, {@code nonce}, {@code keyid}, {@code alg}. */
        public Object parameter(String name) {
            return input.parameters().get(name);
        }
    }

    /**
     * Reads the signature to check from the request's {@code Signature-Input} and {@code Signature}
     * fields: the given label, or when it is {@code null}, the first label present in both fields.
     *
     * @param maxFieldBytes the largest field this side is willing to parse
     * @throws SignatureRejectedException {@link Rejection#UNSIGNED}, {@link Rejection#HEADER_TOO_LARGE}
     *     or {@link Rejection#MALFORMED}
     */
    public static FoundSignature find(SignableRequest request, String label, int maxFieldBytes) {
        boolean hasInput = request.headers().containsKey(SIGNATURE_INPUT);
        boolean hasSignature = request.headers().containsKey(SIGNATURE);
        if (!hasInput && !hasSignature) {
            throw new SignatureRejectedException(Rejection.UNSIGNED, "the request has no Signature-Input and Signature headers");
        }
        if (!hasInput || !hasSignature) {
            throw new SignatureRejectedException(Rejection.MALFORMED,
                    "the request has " + (hasInput ? "Signature-Input but no Signature" : "Signature but no Signature-Input"));
        }
        for (String field : new String[] {SIGNATURE_INPUT, SIGNATURE}) {
            int length = request.fieldLength(field);
            if (length > maxFieldBytes) {
                throw new SignatureRejectedException(Rejection.HEADER_TOO_LARGE,
                        field + " is " + length + " bytes; at most " + maxFieldBytes + " are accepted");
            }
        }
        Map<String, StructuredFields.Member> inputs = dictionary(request, SIGNATURE_INPUT);
        Map<String, StructuredFields.Member> signatures = dictionary(request, SIGNATURE);
        String chosen = label;
        if (chosen == null) {
            chosen = inputs.keySet().stream().filter(signatures::containsKey).findFirst().orElseThrow(() ->
                    new SignatureRejectedException(Rejection.MALFORMED, "no label is present in both Signature-Input and Signature"));
        }
        if (!(inputs.get(chosen) instanceof StructuredFields.InnerList input)) {
            throw new SignatureRejectedException(Rejection.MALFORMED, "Signature-Input has no inner list labelled '" + chosen + "'");
        }
        if (!(signatures.get(chosen) instanceof StructuredFields.Item item) || !(item.value() instanceof byte[] bytes)) {
            throw new SignatureRejectedException(Rejection.MALFORMED, "Signature has no byte sequence labelled '" + chosen + "'");
        }
        for (StructuredFields.Item component : input.items()) {
            if (!(component.value() instanceof String)) {
                throw new SignatureRejectedException(Rejection.MALFORMED, "a covered component is not a string: " + StructuredFields.serialize(component));
            }
        }
        return new FoundSignature(chosen, input, bytes);
    }

    private static Map<String, StructuredFields.Member> dictionary(SignableRequest request, String field) {
        try {
            return StructuredFields.parseDictionary(request.field(field).orElse(""));
        } catch (IllegalArgumentException e) {
            throw new SignatureRejectedException(Rejection.MALFORMED, field + " is not a structured dictionary: " + e.getMessage());
        }
    }

    /**
     * Builds the signature base (RFC 9421 section 2.5) of the request for the covered components
     * and signature parameters in {@code input}.
     *
     * @throws SignatureRejectedException {@link Rejection#INCOMPLETE} when a covered component is
     *     absent from the request, {@link Rejection#MALFORMED} when one cannot be used
     */
    public static String signatureBase(SignableRequest request, StructuredFields.InnerList input) {
        StringBuilder base = new StringBuilder();
        Set<String> seen = new HashSet<>();
        for (StructuredFields.Item component : input.items()) {
            if (!(component.value() instanceof String name)) {
                throw new SignatureRejectedException(Rejection.MALFORMED, "a covered component is not a string");
            }
            if (!component.parameters().isEmpty()) {
                throw new SignatureRejectedException(Rejection.MALFORMED,
                        "component parameters are not supported: " + StructuredFields.serialize(component));
            }
            if (!seen.add(name)) {
                throw new SignatureRejectedException(Rejection.MALFORMED, "component '" + name + "' is covered twice");
            }
            String value = componentValue(request, name);
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c < 0x20 && c != '\t' || c > 0x7e) {
                    throw new SignatureRejectedException(Rejection.MALFORMED,
                            "component '" + name + "' holds a control or non-ASCII character");
                }
            }
            base.append('"').append(name).append("\": ").append(value).append('\n');
        }
        base.append("\"@signature-params\": ").append(StructuredFields.serialize(input));
        return base.toString();
    }

    private static String componentValue(SignableRequest request, String name) {
        if (name.startsWith("@")) {
            if (!DERIVED.contains(name)) {
                throw new SignatureRejectedException(Rejection.MALFORMED, "derived component '" + name + "' is not supported");
            }
            try {
                return switch (name) {
                    case "@method" -> request.method();
                    case "@target-uri" -> TargetUri.targetUri(request.target());
                    case "@authority" -> TargetUri.authority(request.target());
                    case "@scheme" -> TargetUri.scheme(request.target());
                    case "@request-target" -> TargetUri.requestTarget(request.target());
                    case "@path" -> TargetUri.path(request.target());
                    case "@query" -> TargetUri.query(request.target());
                    default -> throw new IllegalStateException(name);
                };
            } catch (IllegalArgumentException e) {
                throw new SignatureRejectedException(Rejection.MALFORMED, "cannot derive '" + name + "': " + e.getMessage());
            }
        }
        if (!name.equals(name.toLowerCase(java.util.Locale.ROOT)) || name.isEmpty()) {
            throw new SignatureRejectedException(Rejection.MALFORMED, "field names are covered in lower case: '" + name + "'");
        }
        return request.field(name).orElseThrow(() ->
                new SignatureRejectedException(Rejection.INCOMPLETE, "the covered field '" + name + "' is absent from the request"));
    }

    /** Signs a signature base with an Ed25519 private key. */
    public static byte[] sign(PrivateKey key, String signatureBase) {
        try {
            return Ed25519.sign(key, signatureBase.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with an Ed25519 key: " + e.getMessage(), e);
        }
    }

    /** Checks an Ed25519 signature over a signature base; false for any mismatch or unusable input. */
    public static boolean verify(PublicKey key, String signatureBase, byte[] signature) {
        try {
            return Ed25519.verify(key, signatureBase.getBytes(StandardCharsets.US_ASCII), signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
