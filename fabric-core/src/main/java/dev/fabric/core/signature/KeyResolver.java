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
        Map<String, PublicKey> copy = Map.copyOf(trusted);
        return keyId -> Optional.ofNullable(copy.get(keyId));
    }
}
