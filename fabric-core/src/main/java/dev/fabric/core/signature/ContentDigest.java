package dev.fabric.core.signature;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/** The {@code Content-Digest} field of RFC 9530: {@code sha-256=:BASE64:} (sha-512 is accepted too). */
public final class ContentDigest {

    public static final String FIELD = "content-digest";

    private static final Map<String, String> ALGORITHMS = Map.of("sha-256", "SHA-256", "sha-512", "SHA-512");

    private ContentDigest() {}

    /** The field value for a body: {@code sha-256=:...:}. */
    public static String sha256(byte[] body) {
        return "sha-256=" + StructuredFields.serialize(StructuredFields.Item.of(digest("SHA-256", body)));
    }

    /**
     * Checks the body against the field: every algorithm the fabric knows that the field names must
     * match, and it must name at least one.
     *
     * @throws SignatureRejectedException {@link Rejection#MALFORMED} for a field that cannot be read,
     *     {@link Rejection#DIGEST_MISMATCH} when the body differs
     */
    public static void verify(String fieldValue, byte[] body) {
        Map<String, StructuredFields.Member> members;
        try {
            members = StructuredFields.parseDictionary(fieldValue);
        } catch (IllegalArgumentException e) {
            throw new SignatureRejectedException(Rejection.MALFORMED, "Content-Digest is not a structured dictionary: " + e.getMessage());
        }
        boolean checked = false;
        for (Map.Entry<String, StructuredFields.Member> member : members.entrySet()) {
            String algorithm = ALGORITHMS.get(member.getKey());
            if (algorithm == null) {
                continue;
            }
            if (!(member.getValue() instanceof StructuredFields.Item item) || !(item.value() instanceof byte[] expected)) {
                throw new SignatureRejectedException(Rejection.MALFORMED, "Content-Digest " + member.getKey() + " is not a byte sequence");
            }
            if (!MessageDigest.isEqual(expected, digest(algorithm, body))) {
                throw new SignatureRejectedException(Rejection.DIGEST_MISMATCH,
                        "the body does not match its Content-Digest (" + member.getKey() + ")");
            }
            checked = true;
        }
        if (!checked) {
            throw new SignatureRejectedException(Rejection.MALFORMED, "Content-Digest names no supported algorithm (sha-256, sha-512)");
        }
    }

    private static byte[] digest(String algorithm, byte[] body) {
        try {
            return MessageDigest.getInstance(algorithm).digest(body);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from this JVM", e);
        }
    }
}
