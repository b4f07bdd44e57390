package dev.fabric.spawner.contract;

import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.otp.OneTimePassword;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * What a member proves during its bootstrap, so the spawner never hands anything secret to, nor
 * accepts the answers of, another process that answers on the member's port:
 * <ul>
 *   <li><b>hello</b> (mode 3): the member knows its one-time password. It answers the spawner's
 *       random challenge with HMAC-SHA256 keyed by the password over the challenge, its id,
 *       incarnation, ephemeral key and bootstrap key: proof of knowledge that does not reveal the
 *       password, and binds the keys the spawner will seal to and verify with;</li>
 *   <li><b>status</b> (step 4a, every mode): the member holds the private half of the Ed25519
 *       <em>bootstrap key</em> it announced with its redeem (or hello). It signs the spawner's
 *       challenge, its id, incarnation and the fabric key id it installed.</li>
 * </ul>
 * Every proof is bound to its purpose by a label, so one cannot stand in for another.
 */
public final class BootstrapProofs {

    private static final String HELLO = "fabric-bootstrap/v1 hello";
    private static final String STATUS = "fabric-bootstrap/v1 status";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{22,128}");

    private BootstrapProofs() {}

    /** A fresh challenge: 256 random bits, base64url. */
    public static String challenge() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Whether a challenge has the form a spawner sends (base64url, 22 to 128 characters). */
    public static boolean wellFormed(String challenge) {
        return challenge != null && CHALLENGE.matcher(challenge).matches();
    }

    /** The member's answer to a hello challenge. */
    public static String helloProof(OneTimePassword otp, String serviceId, long incarnation, String challenge,
                                    String publicKey, String bootstrapKey) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(otp.reveal().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] proof = mac.doFinal(message(HELLO, serviceId, Long.toString(incarnation), challenge, publicKey, bootstrapKey));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(proof);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this Java runtime", e);
        }
    }

    /** Whether the hello answer proves knowledge of {@code otp} for this challenge (compared in constant time). */
    public static boolean helloProven(OneTimePassword otp, BootstrapWire.Hello hello, String challenge) {
        if (hello.proof() == null || hello.publicKey() == null || hello.bootstrapKey() == null) {
            return false;
        }
        String expected = helloProof(otp, hello.serviceId(), hello.incarnation(), challenge, hello.publicKey(), hello.bootstrapKey());
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), hello.proof().getBytes(StandardCharsets.UTF_8));
    }

    /** The member's signature of its status for a challenge, with its bootstrap key. */
    public static String statusProof(PrivateKey bootstrapKey, String serviceId, long incarnation, String keyId, String challenge) {
        try {
            byte[] signature = Ed25519.sign(bootstrapKey, message(STATUS, serviceId, Long.toString(incarnation), keyId, challenge));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the bootstrap key: " + e.getMessage(), e);
        }
    }

    /**
     * Whether the status carries a valid signature of this challenge by {@code bootstrapKey} (base64
     * of its X.509 encoding), the key the member announced when it redeemed its password.
     */
    public static boolean statusProven(String bootstrapKey, BootstrapWire.Status status, String challenge) {
        if (bootstrapKey == null || status.proof() == null || status.keyId() == null) {
            return false;
        }
        try {
            PublicKey key = Ed25519.publicKey(Base64.getDecoder().decode(bootstrapKey));
            return Ed25519.verify(key, message(STATUS, status.id(), Long.toString(status.incarnation()), status.keyId(), challenge),
                    Base64.getUrlDecoder().decode(status.proof()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Base64 of a public key's X.509 encoding: how a bootstrap key travels. */
    public static String encode(PublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    private static byte[] message(String label, String... parts) {
        StringBuilder message = new StringBuilder(label);
        for (String part : parts) {
            message.append('\n').append(part == null ? "" : part);
        }
        return message.toString().getBytes(StandardCharsets.UTF_8);
    }
}
