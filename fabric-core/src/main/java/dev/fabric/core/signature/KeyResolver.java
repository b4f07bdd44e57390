package dev.fabric.core.signature;

import java.security.PublicKey;
import java.util.Map;
import java.util.Optional;

/** Finds the public key a signature's {@code keyid} names, among the keys this member trusts. */
@FunctionalInterface
public interface KeyResolver {

    Optional<PublicKey> resolve(String keyId);

    /** Trusts exactly the given keys. */
    static KeyResolver of(Map<String, PublicKey> trusted) {
        Map<String, PublicKey> adopted = new java.util.HashMap<>();
        trusted.forEach((keyId, key) -> {
            try {
                adopted.put(keyId, dev.fabric.core.keys.Ed25519.adopt(key));
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalArgumentException("key '" + keyId + "' is not an Ed25519 public key", e);
            }
        });
        Map<String, PublicKey> copy = Map.copyOf(adopted);
        return keyId -> Optional.ofNullable(copy.get(keyId));
    }
}
