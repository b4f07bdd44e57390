package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.Posix;

import java.util.Set;
import java.util.TreeSet;

/**
 * Who may talk to the daemon, checked with the peer's credentials (SO_PEERCRED) before any byte
 * of a session is read: a peer is allowed when its uid is in {@code uids} or its gid in {@code gids}.
 * This is on top of the socket file's mode 0600, which already keeps other users out of the path.
 */
public record PeerPolicy(Set<Integer> uids, Set<Integer> gids) {

    public PeerPolicy {
        uids = Set.copyOf(uids);
        gids = Set.copyOf(gids);
    }

    /** The default: only the daemon's own uid. */
    public static PeerPolicy ownUid() {
        return new PeerPolicy(Set.of(Posix.getuid()), Set.of());
    }

    public boolean allows(long uid, long gid) {
        return uids.contains((int) uid) || gids.contains((int) gid);
    }

    @Override
    public String toString() {
        return "uids " + new TreeSet<>(uids) + (gids.isEmpty() ? "" : ", gids " + new TreeSet<>(gids));
    }
}
