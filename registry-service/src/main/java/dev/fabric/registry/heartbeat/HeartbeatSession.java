package dev.fabric.registry.heartbeat;

import javax.crypto.Mac;
import java.time.Instant;

/**
 * What the registry holds for one heartbeat stream: whom it speaks for (one id, one incarnation, fixed
 * by the signed handshake), its MAC key, until when it lasts, and the last sequence number accepted.
 * Used by one stream's messages, which arrive one after another.
 */
final class HeartbeatSession {

    final String session;
    final String id;
    final long incarnation;
    final Instant expiresAt;
    final Mac mac;
    final byte[] registryKey;
    long lastSeq;

    HeartbeatSession(String session, String id, long incarnation, Instant expiresAt, Mac mac, byte[] registryKey) {
        this.session = session;
        this.id = id;
        this.incarnation = incarnation;
        this.expiresAt = expiresAt;
        this.mac = mac;
        this.registryKey = registryKey;
    }
}
