package dev.fabric.spawner.contract;

import dev.fabric.core.sealing.SealedKeys;

import java.util.Map;

/**
 * The messages of the bootstrap handshake (docs/spawner.md, "Bootstrap protocol"). They travel
 * unsigned: the member has no keys yet. The one-time password authenticates the exchange and the
 * fabric keys travel sealed to the member's ephemeral X25519 key, bound to its service id.
 */
public final class BootstrapWire {

    private BootstrapWire() {}

    /**
     * Modes 1 and 2, member to spawner: {@code POST /bootstrap/v1/redeem}.
     *
     * @param publicKey the member's ephemeral X25519 public key, base64 of its X.509 encoding
     * @param managementUrl where the spawner reaches the member's management port
     * @param bootstrapKey the member's Ed25519 bootstrap key (public half, base64 of its X.509 encoding):
     *     it signs the member's status in step 4a ({@link BootstrapProofs})
     */
    public record Redeem(String serviceId, long incarnation, String otp, String publicKey, String managementUrl, String bootstrapKey) {
        @Override
        public String toString() {
            return "Redeem[serviceId=" + serviceId + ", incarnation=" + incarnation + ", managementUrl=" + managementUrl + "]";
        }
    }

    /** The spawner's answer to a redeemed password: the sealed keys and where the registry is. */
    public record Released(SealedKeys.Encoded keys, String keyId, String registryUrl) {}

    /**
     * Mode 3, spawner to member: {@code GET /bootstrap/v1/hello?challenge=C} answers who the member
     * is, its ephemeral key and bootstrap key, and {@code proof}: HMAC-SHA256 keyed by its one-time
     * password over the challenge and all of these ({@link BootstrapProofs#helloProof}). The spawner
     * sends nothing secret to a member that cannot prove it knows the password.
     */
    public record Hello(String serviceId, long incarnation, String publicKey, String bootstrapKey, String proof) {}

    /** Mode 3, spawner to member: {@code POST /bootstrap/v1/keys}: the password proves the caller is the spawner. */
    public record Offer(String otp, SealedKeys.Encoded keys, String keyId, String registryUrl) {
        @Override
        public String toString() {
            return "Offer[keyId=" + keyId + ", registryUrl=" + registryUrl + "]";
        }
    }

    /** Spawner to member, signed: {@code PUT /management/v1/role}. */
    public record Configure(String role, Map<String, String> config, boolean restart) {}

    /**
     * A member's {@code GET /management/v1/status}. Asked with {@code ?challenge=C}, {@code proof} is
     * the member's Ed25519 signature of the challenge, its id, incarnation and key id with its
     * bootstrap key ({@link BootstrapProofs#statusProof}); otherwise {@code null}.
     */
    public record Status(String id, long incarnation, String role, String phase, String keyId, Map<String, Object> roleStatus,
                         String proof) {}
}
