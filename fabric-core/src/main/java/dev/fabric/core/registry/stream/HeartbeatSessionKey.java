package dev.fabric.core.registry.stream;

import dev.fabric.core.sealing.KeySealing;

import javax.crypto.Mac;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;

/**
 * The key that proves a heartbeat stream's frames: X25519 between the member's ephemeral key (sent in
 * its signed handshake) and the registry's (sent back on the stream), stretched by HKDF-SHA256 (salt:
 * both public keys, member's first; info: {@value #CONTEXT}, the member's id, incarnation and the
 * session id) into an HMAC-SHA256 key. Both ephemeral private keys are dropped after.
 */
public final class HeartbeatSessionKey {

    static final String CONTEXT = "fabric-heartbeat/v1 ";

    private HeartbeatSessionKey() {}

    /** A MAC ready to prove or check this session's frames (not thread-safe: one per stream). */
    public static Mac mac(PrivateKey ownPrivate, PublicKey peerPublic, byte[] memberSpki, byte[] registrySpki,
                          String id, long incarnation, String session) {
        try {
            byte[] salt = ByteBuffer.allocate(memberSpki.length + registrySpki.length).put(memberSpki).put(registrySpki).array();
            byte[] info = (CONTEXT + id + " " + incarnation + " " + session).getBytes(StandardCharsets.UTF_8);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(KeySealing.agree(ownPrivate, peerPublic, salt, info, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive the heartbeat session key: " + e.getMessage(), e);
        }
    }
}
