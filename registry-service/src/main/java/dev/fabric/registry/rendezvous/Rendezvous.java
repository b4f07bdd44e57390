package dev.fabric.registry.rendezvous;

import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.Side;

import java.security.PublicKey;
import java.time.Instant;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One brokered splice: who may join each side, what address each side's join came from, when both
 * dial. Single use: once both sides have been told READY, it is spent. Guarded by its own monitor.
 */
final class Rendezvous {

    private final String id;
    private final String peer;
    private final PublicKey peerKey;
    private final Instant expiresAt;
    private final Map<Side, String> observed = new EnumMap<>(Side.class);
    private final Set<Side> told = EnumSet.noneOf(Side.class);
    private Instant startAt;

    Rendezvous(String id, String peer, PublicKey peerKey, Instant expiresAt) {
        this.id = id;
        this.peer = peer;
        this.peerKey = peerKey;
        this.expiresAt = expiresAt;
    }

    String id() {
        return id;
    }

    String peer() {
        return peer;
    }

    /** The key the peer must sign its join with; empty: the fabric key. */
    Optional<PublicKey> peerKey() {
        return Optional.ofNullable(peerKey);
    }

    Instant expiresAt() {
        return expiresAt;
    }

    synchronized boolean used() {
        return told.size() == Side.values().length;
    }

    synchronized Map<Side, String> observed() {
        return Map.copyOf(observed);
    }

    /**
     * Records {@code side}'s join from {@code address}. A side joins from one address only: its
     * repeated joins (its polls) come over the same connection.
     *
     * @throws RendezvousRefusal when the side is taken by another address, or the rendezvous is spent
     */
    synchronized RendezvousWire.Joined join(Side side, String address, Instant now, java.time.Duration startDelay) {
        if (used()) {
            throw RendezvousRefusal.used(id);
        }
        String earlier = observed.putIfAbsent(side, address);
        if (earlier != null && !earlier.equals(address)) {
            throw RendezvousRefusal.sideTaken(id, side, earlier, address);
        }
        Side other = side == Side.INITIATOR ? Side.PEER : Side.INITIATOR;
        String peerAddress = observed.get(other);
        if (peerAddress == null) {
            return new RendezvousWire.Joined(id, side, RendezvousWire.State.WAITING, address, null, null, expiresAt);
        }
        if (startAt == null) {
            startAt = now.plus(startDelay);
        }
        told.add(side);
        long startIn = Math.max(0, java.time.Duration.between(now, startAt).toMillis());
        return new RendezvousWire.Joined(id, side, RendezvousWire.State.READY, address, peerAddress, startIn, expiresAt);
    }
}
