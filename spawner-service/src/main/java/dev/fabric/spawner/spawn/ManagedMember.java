package dev.fabric.spawner.spawn;

import dev.fabric.spawner.bootstrap.Handshake;
import dev.fabric.spawner.launch.LaunchedMember;

import java.util.Optional;

/**
 * The one owner of a member's life on this spawner: the incarnation it looks after, that
 * incarnation's bootstrap handshake, and its restarts. Every field is guarded by this object's
 * lock ({@code synchronized (member)}), which is the member's one lock: spawning, restarting,
 * stopping, a redeem and the handling of an ending never interleave for one member.
 */
public final class ManagedMember {

    private final String id;
    private final CrashLoopWindow restarts;
    private Incarnation current;
    private Handshake handshake;

    /** A launched incarnation; {@code stopping} once its end is on purpose (a stop, a restart, a failed bootstrap). */
    private record Incarnation(long number, LaunchedMember launched, boolean stopping) {}

    ManagedMember(String id, CrashLoopWindow restarts) {
        this.id = id;
        this.restarts = restarts;
    }

    public String id() {
        return id;
    }

    /** The bootstrap handshake going on, if any. */
    public synchronized Optional<Handshake> handshake() {
        return Optional.ofNullable(handshake);
    }

    /** The handshake of that incarnation, if it goes on. */
    public synchronized Optional<Handshake> handshake(long incarnation) {
        return handshake != null && handshake.incarnation() == incarnation ? Optional.of(handshake) : Optional.empty();
    }

    /** Starts tracking a new handshake, replacing any other. */
    public synchronized void handshake(Handshake next) {
        handshake = next;
    }

    /** Forgets the handshake if it is still that one. */
    public synchronized boolean endHandshake(Handshake ended) {
        if (handshake != ended) {
            return false;
        }
        handshake = null;
        return true;
    }

    /** This spawner now looks after {@code launched}. */
    synchronized void launched(LaunchedMember launched) {
        current = new Incarnation(launched.incarnation(), launched, false);
    }

    /** The launched incarnation this spawner looks after and has not given up, if it is {@code incarnation}. */
    synchronized Optional<LaunchedMember> live(long incarnation) {
        return current != null && current.number() == incarnation && !current.stopping()
                ? Optional.of(current.launched()) : Optional.empty();
    }

    /** Whether this spawner looks after a live incarnation (for stopping them all). */
    synchronized boolean isLive() {
        return current != null && !current.stopping();
    }

    /**
     * Gives up the incarnation this spawner looks after, so its end is taken as on purpose.
     *
     * @return it, to be stopped by the caller, or empty when there was none
     */
    synchronized Optional<LaunchedMember> giveUp() {
        if (current == null || current.stopping()) {
            return Optional.empty();
        }
        LaunchedMember launched = current.launched();
        current = new Incarnation(current.number(), launched, true);
        return Optional.of(launched);
    }

    /** Gives up {@code incarnation} if it is the one looked after and not given up yet. */
    synchronized boolean giveUp(long incarnation) {
        if (live(incarnation).isEmpty()) {
            return false;
        }
        giveUp();
        return true;
    }

    /** Its restarts within the crash-loop window. */
    CrashLoopWindow restarts() {
        return restarts;
    }
}
