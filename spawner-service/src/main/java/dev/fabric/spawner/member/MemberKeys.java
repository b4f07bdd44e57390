package dev.fabric.spawner.member;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.KeyResolver;

import java.security.PublicKey;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The fabric keys of a member: none until its bootstrap delivers them, so until then every signed
 * request is refused (unknown key) and only the bootstrap endpoints answer.
 */
public final class MemberKeys implements KeyResolver {

    private final AtomicReference<FabricKeys> keys = new AtomicReference<>();

    /** Installs the keys once; a second delivery is refused (it would be a replay or an attack). */
    public boolean install(FabricKeys delivered) {
        return keys.compareAndSet(null, delivered);
    }

    public Optional<FabricKeys> keys() {
        return Optional.ofNullable(keys.get());
    }

    @Override
    public Optional<PublicKey> resolve(String keyId) {
        FabricKeys current = keys.get();
        return current != null && current.keyId().equals(keyId) ? Optional.of(current.publicKey()) : Optional.empty();
    }
}
