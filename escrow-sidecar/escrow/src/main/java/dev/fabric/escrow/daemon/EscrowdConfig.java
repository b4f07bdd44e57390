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
 */
public record EscrowdConfig(Path path, int nrTags, boolean force, PeerPolicy peers, PrintStream trace, Duration shutdownGrace,
                            EscrowdListener listener) {

    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(5);

    public EscrowdConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(listener, "listener");
        new Limits(nrTags);
    }

    /** Defaults: 32 tags, no force, own uid only, no trace, 5 s grace, no listener. */
    public static EscrowdConfig of(Path path) {
        return new EscrowdConfig(path, Limits.DEFAULT_NR_TAGS, false, PeerPolicy.ownUid(), null, DEFAULT_SHUTDOWN_GRACE,
                EscrowdListener.NONE);
    }

    public EscrowdConfig withNrTags(int n) {
        return new EscrowdConfig(path, n, force, peers, trace, shutdownGrace, listener);
    }

    public EscrowdConfig withForce(boolean f) {
        return new EscrowdConfig(path, nrTags, f, peers, trace, shutdownGrace, listener);
    }

    public EscrowdConfig withPeers(PeerPolicy p) {
        return new EscrowdConfig(path, nrTags, force, p, trace, shutdownGrace, listener);
    }

    public EscrowdConfig withTrace(PrintStream t) {
        return new EscrowdConfig(path, nrTags, force, peers, t, shutdownGrace, listener);
    }

    public EscrowdConfig withShutdownGrace(Duration g) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, g, listener);
    }

    public EscrowdConfig withListener(EscrowdListener l) {
        return new EscrowdConfig(path, nrTags, force, peers, trace, shutdownGrace, l);
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
}
