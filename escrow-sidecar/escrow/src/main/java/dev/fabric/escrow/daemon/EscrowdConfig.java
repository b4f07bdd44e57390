package dev.fabric.escrow.daemon;

import dev.fabric.escrow.wire.Limits;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How an escrowd runs.
 *
 * @param path the socket path; the stats socket is {@code path + ".stats"}, the lock {@code path + ".lock"}
 * @param nrTags tags, fixed for the daemon's life (default 32)
 * @param force replace a stale socket file at the path (the C {@code -f})
 * @param peers who may connect (default: the daemon's own uid)
 * @param trace where the VERBOSE message trace goes, or null for none
 * @param shutdownGrace how long a graceful shutdown waits for the current session to end
 * @param listener told when a tag's slots change (default {@link EscrowdListener#NONE})
 * @param maxSlots slots held at most, over all tags (default {@value #DEFAULT_MAX_SLOTS}); an ADD
 *        that would make one more answers {@code -28 "Escrow full: ..."} (ENOSPC)
 * @param maxPayloadBytes payload bytes held at most, over all slots (default 16 MiB); an ADD that
 *        would go over answers {@code -28 "Escrow full: ..."}. With {@code maxSlots} this bounds the
 *        daemon's memory, which the protocol alone lets grow to 32 KiB x 2^20 indices x tags.
 * @param idleTimeout how long a session may stay silent (no byte from its client) while another
 *        client waits for the session, before it is cut (default 30 s; zero: never). A stopped
 *        (SIGSTOP) or hung client otherwise holds the one session for ever. A silent session that
 *        nobody waits behind is left alone; our Java client keeps a live session from looking
 *        silent (it sends a harmless TAG every 10 s while otherwise idle).
 */
public record EscrowdConfig(Path path, int nrTags, boolean force, PeerPolicy peers, PrintStream trace, Duration shutdownGrace,
                            EscrowdListener listener, int maxSlots, long maxPayloadBytes, Duration idleTimeout) {

    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_SLOTS = 131_072;
    public static final long DEFAULT_MAX_PAYLOAD_BYTES = 16L << 20;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    public EscrowdConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        new Limits(nrTags);
        if (maxSlots < 1) {
            throw new IllegalArgumentException("max slots must be at least 1, not " + maxSlots);
        }
        if (maxPayloadBytes < 0) {
            throw new IllegalArgumentException("max payload bytes must be 0 or more, not " + maxPayloadBytes);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("the idle timeout must be zero (never) or positive, not " + idleTimeout);
        }
    }

    /** Defaults: 32 tags, no force, own uid only, no trace, 5 s grace, no listener, 131,072 slots, 16 MiB of payload, 30 s idle timeout. */
    public static EscrowdConfig of(Path path) {
        return new EscrowdConfig(path, Limits.DEFAULT_NR_TAGS, false, PeerPolicy.ownUid(), null, DEFAULT_SHUTDOWN_GRACE,
                EscrowdListener.NONE, DEFAULT_MAX_SLOTS, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_IDLE_TIMEOUT);
    }

    public EscrowdConfig withNrTags(int n) {
        return new EscrowdConfig(path, n, force, peers, trace, shutdownGrace, listener, maxSlots, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withForce(boolean f) {
        return new EscrowdConfig(path, nrTags, f, peers, trace, shutdownGrace, listener, maxSlots, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withPeers(PeerPolicy p) {
        return new EscrowdConfig(path, nrTags, force, p, trace, shutdownGrace, listener, maxSlots, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withTrace(PrintStream t) {
        return new EscrowdConfig(path, nrTags, force, peers, t, shutdownGrace, listener, maxSlots, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withShutdownGrace(Duration g) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, g, listener, maxSlots, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withListener(EscrowdListener l) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, shutdownGrace, l, maxSlots, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withMaxSlots(int n) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, shutdownGrace, listener, n, maxPayloadBytes, idleTimeout);
    }

    public EscrowdConfig withMaxPayloadBytes(long n) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, shutdownGrace, listener, maxSlots, n, idleTimeout);
    }

    /** {@link Duration#ZERO}: never cut a silent session. */
    public EscrowdConfig withIdleTimeout(Duration t) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, shutdownGrace, listener, maxSlots, maxPayloadBytes, t);
    }

    public Path statsPath() {
        return statsPath(path);
    }

    public static Path statsPath(Path socketPath) {
        return socketPath.resolveSibling(socketPath.getFileName() + ".stats");
    }

    public Path lockPath() {
        return path.resolveSibling(path.getFileName() + ".lock");
    }

    /** Where a daemon started with {@code -d} writes its output: {@code path + ".log"}. */
    public Path logPath() {
        return logPath(path);
    }

    public static Path logPath(Path socketPath) {
        return socketPath.resolveSibling(socketPath.getFileName() + ".log");
    }
}
