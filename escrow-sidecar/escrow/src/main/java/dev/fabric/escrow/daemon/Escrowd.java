package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.stats.StatsFormat;
import dev.fabric.escrow.wire.Limits;
import dev.fabric.escrow.wire.Trace;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.posix.PosixException;
import org.newsclub.net.unix.FileDescriptorCast;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The escrow daemon engine: holds descriptors and payloads in slots addressed by (tag, idx) for
 * clients that connect to a UNIX socket, speaking the C escrow's protocol byte for byte.
 * <p>
 * One session at a time, as in the C daemon: the next client waits in the listen backlog until
 * the current one disconnects, which is how a new service version waits for the old one to let
 * go. Every peer's credentials are checked against {@link PeerPolicy} before a byte is read. The
 * descriptors it holds are its own duplicates, independent of the session they came on. A
 * read-only stats view is served on {@code <path>.stats} (see {@link StatsServer}).
 * <p>
 * {@link #shutdown} stops accepting sessions, gives the current one a grace period and reports
 * what is still held; {@link #close} also closes the held descriptors. Plain Java, embeddable
 * (the sidecar wraps it); {@link EscrowdMain} is its command line.
 * <p>
 * Threads: platform threads, on purpose. junixsocket 2.11 parks a virtual thread that waits on a
 * socket by handing a poll loop to a work-stealing pool with one thread per core, and that loop
 * holds its pool thread until the socket is ready; with the acceptor, an idle session and the
 * stats acceptor waiting, a 2-core machine has no pool thread left and the next waiter never
 * wakes. The daemon needs three long-lived threads, so platform threads cost nothing here.
 */
public final class Escrowd implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Escrowd.class);

    private final EscrowdConfig config;
    private final Limits limits;
    private final SlotTable slots;
    private final Counters counters = new Counters();
    private final Trace trace;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final SocketFile socketFile;
    private final StatsServer statsServer;
    private final Thread acceptor;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Object sessionMonitor = new Object();
    private final long pid = ProcessHandle.current().pid();
    private volatile EscrowStats.State state = EscrowStats.State.SERVING;
    private volatile AFUNIXSocket current;
    private volatile EscrowStats finalReport;

    private Escrowd(EscrowdConfig config, FileChannel lockChannel, FileLock lock, SocketFile socketFile, SocketFile statsFile) {
        this.config = config;
        this.limits = new Limits(config.nrTags());
        this.slots = new SlotTable(config.nrTags());
        this.trace = Trace.to(config.trace());
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.socketFile = socketFile;
        this.statsServer = statsFile == null ? null
                : new StatsServer(statsFile, config.peers(), withSlots -> StatsFormat.render(stats(withSlots)), counters);
        this.acceptor = Thread.ofPlatform().name("escrowd-acceptor").daemon(true).unstarted(this::acceptLoop);
    }

    /**
     * Binds the socket (mode 0600) and starts serving.
     *
     * @throws AlreadyServingException when another escrowd serves the path
     * @throws StaleSocketException when the path holds a socket file nobody listens on and {@code force} is off
     * @throws IOException when binding fails
     */
    public static Escrowd start(EscrowdConfig config) throws IOException {
        Path path = config.path();
        SocketFile.checkPathLength(path);
        FileChannel lockChannel = openLockFile(config.lockPath());
        FileLock lock = null;
        SocketFile socketFile = null;
        try {
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new AlreadyServingException("another escrowd serves " + path + " (it holds " + config.lockPath() + ")");
            }
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                if (someoneListens(path)) {
                    throw new AlreadyServingException("a daemon already listens on " + path);
                }
                if (!config.force()) {
                    throw new StaleSocketException(path);
                }
                Files.delete(path);
            }
            socketFile = SocketFile.bind(path);
            SocketFile statsFile = bindStats(config.statsPath());
            Escrowd escrowd = new Escrowd(config, lockChannel, lock, socketFile, statsFile);
            escrowd.acceptor.start();
            if (escrowd.statsServer != null) {
                escrowd.statsServer.start();
            }
            LOG.info("escrowd listening on {} ({} tags, peers: {})", path, config.nrTags(), config.peers());
            return escrowd;
        } catch (IOException | RuntimeException e) {
            if (socketFile != null) {
                socketFile.close();
            }
            if (lock != null) {
                lock.release();
            }
            lockChannel.close();
            throw e;
        }
    }

    /**
     * Opens {@code <path>.lock} as a private (0600) regular file of ours, never through a symbolic
     * link: the socket's directory may be shared, and a link planted there must not make the daemon
     * create, chmod or lock a file elsewhere ({@code O_NOFOLLOW}, then {@code fchmod} of the
     * descriptor opened, then a look at what was opened through {@code /proc/self/fd}).
     */
    static FileChannel openLockFile(Path lockPath) throws IOException {
        int fd;
        try {
            fd = Posix.openPrivateNoFollow(lockPath.toString(), false);
        } catch (PosixException e) {
            if (e.errno() == Posix.ELOOP) {
                throw new IOException(lockPath + " is a symbolic link; escrowd never follows one there (someone may be steering it "
                        + "at another file): remove it, or choose a socket path in a directory only you can write", e);
            }
            throw new IOException("cannot open the lock file " + lockPath + ": " + e.getMessage()
                    + " (the directory must be writable by this uid; a file there must be ours)", e);
        }
        FileDescriptor descriptor = FileDescriptorCast.unsafeUsing(fd).getFileDescriptor();
        FileChannel channel = new FileOutputStream(descriptor).getChannel();
        try {
            // What we opened, not what the path names now: /proc/self/fd/N leads to the open file itself.
            PosixFileAttributes opened = Files.readAttributes(Path.of("/proc/self/fd", Integer.toString(fd)), PosixFileAttributes.class);
            if (!opened.isRegularFile()) {
                throw new IOException(lockPath + " is not a regular file; remove it");
            }
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    private static SocketFile bindStats(Path statsPath) {
        try {
            // We hold the lock: whatever is at the stats path is a leftover of a dead escrowd.
            Files.deleteIfExists(statsPath);
            return SocketFile.bind(statsPath);
        } catch (IOException e) {
            LOG.warn("no stats socket at {}: {}", statsPath, e.getMessage());
            return null;
        }
    }

    private static boolean someoneListens(Path path) {
        try (AFUNIXSocket probe = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path))) {
            return probe.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() {
        return config.path();
    }

    public EscrowdConfig config() {
        return config;
    }

    public boolean isServing() {
        return state == EscrowStats.State.SERVING;
    }

    /**
     * Whether a client connecting now would be served: the daemon is serving, its acceptor runs,
     * and the socket file at the path is still its own listening socket (not deleted or replaced).
     * The sidecar's readiness.
     */
    public boolean isAccepting() {
        return state == EscrowStats.State.SERVING && acceptor.isAlive() && socketFile.isReachable();
    }

    /** Sessions served since start (refused peers not counted). */
    public long sessions() {
        return counters.sessions.sum();
    }

    /** Whether a client session is being served right now. */
    public boolean sessionActive() {
        return current != null;
    }

    /** What the daemon holds now, per tag, without slot lines. */
    public EscrowStats stats() {
        return stats(false);
    }

    /** What the daemon holds now; with {@code withSlots}, one entry per slot too. */
    public EscrowStats stats(boolean withSlots) {
        return new EscrowStats(config.path().toString(), pid, config.nrTags(), state, current != null, counters.sessions.sum(),
                counters.errors(Rejection.PEER_REFUSED), counters.nonZeroErrors(), slots.tagStats(),
                withSlots ? slots.slotInfos() : List.of());
    }

    /** Error replies and cut sessions for one reason since start. */
    public long errors(Rejection rejection) {
        return counters.errors(rejection);
    }

    /** Blocks until a shutdown has completed. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /**
     * Accepts and serves sessions, one at a time, until shutdown. Nothing a session does ends this
     * loop: an OutOfMemoryError or a bug (a RuntimeException) ends that session, is logged and
     * counted as {@code internal_error}, and the next client is served; a dead acceptor would leave
     * the daemon holding every descriptor with no way to hand one back.
     */
    private void acceptLoop() {
        while (state == EscrowStats.State.SERVING) {
            try {
                acceptOne();
            } catch (RuntimeException | Error e) {
                survive(e);
            }
        }
    }

    /**
     * After an unexpected failure: count it, log it if memory allows, and pause a moment (for memory
     * to come back, and so that an accept that keeps failing cannot spin).
     */
    private void survive(Throwable failure) {
        counters.count(Rejection.INTERNAL_ERROR);
        try {
            LOG.error("escrowd on {}: a session failed ({}); the held descriptors are untouched, serving the next client",
                    config.path(), failure.toString(), failure);
        } catch (RuntimeException | Error e) {
            // Logging needs memory too; the counter already says it happened.
        }
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether a client waits in the backlog for the session (the listening socket is readable). */
    private boolean someoneWaits() {
        try {
            return Posix.readableNow(Descriptors.number(socketFile.server().getFileDescriptor()));
        } catch (IOException | PosixException e) {
            return false;
        }
    }

    private void acceptOne() {
        AFUNIXSocket socket;
        try {
            socket = socketFile.server().accept();
        } catch (IOException e) {
            if (state != EscrowStats.State.SERVING || socketFile.server().isClosed()) {
                return;
            }
            LOG.warn("accept failed: {}", e.toString());
            return;
        }
        try (socket) {
            if (state != EscrowStats.State.SERVING) {
                return;
            }
            AFUNIXSocketCredentials peer = socket.getPeerCredentials();
            if (!config.peers().allows(peer.getUid(), peer.getGid())) {
                counters.count(Rejection.PEER_REFUSED);
                LOG.warn("refused a peer on {}: uid {} gid {} pid {} is not allowed ({})", config.path(), peer.getUid(),
                        peer.getGid(), peer.getPid(), config.peers());
                trace.note("Refused peer: uid " + peer.getUid() + " gid " + peer.getGid() + " pid " + peer.getPid() + ".");
                return;
            }
            current = socket;
            counters.sessions.increment();
            new Session(socket, slots, config, limits, trace, counters, this::someoneWaits).run();
        } catch (IOException e) {
            LOG.debug("session setup failed: {}", e.toString());
        } finally {
            synchronized (sessionMonitor) {
                current = null;
                sessionMonitor.notifyAll();
            }
        }
    }

    /** {@link #shutdown(Duration)} with the configured grace. */
    public EscrowStats shutdown() {
        return shutdown(config.shutdownGrace());
    }

    /**
     * Graceful shutdown: refuses new sessions at once (the socket file goes away), lets the current
     * session finish within {@code grace}, then cuts it. Returns, and logs, what is still held;
     * the descriptors stay open until {@link #close()} or the process ends. Idempotent.
     */
    public EscrowStats shutdown(Duration grace) {
        synchronized (this) {
            if (state != EscrowStats.State.SERVING) {
                try {
                    stopped.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return finalReport;
            }
            state = EscrowStats.State.DRAINING;
        }
        LOG.info("escrowd on {} shutting down: refusing new sessions", config.path());
        socketFile.close();
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (sessionMonitor) {
            long left;
            while (current != null && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(sessionMonitor, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            AFUNIXSocket session = current;
            if (session != null) {
                (grace.isZero() ? LOG.atDebug() : LOG.atWarn()).log("escrowd on {}: the current session did not end within {}; closing it", config.path(), grace);
                try {
                    session.close();
                } catch (IOException e) {
                    // The session thread sees the closed socket and ends; nothing else to do.
                }
            }
        }
        try {
            acceptor.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (statsServer != null) {
            statsServer.close();
        }
        state = EscrowStats.State.STOPPED;
        EscrowStats report = stats(false);
        finalReport = report;
        LOG.info("escrowd on {} stopped; still holding {}", config.path(), report.summary());
        stopped.countDown();
        return report;
    }

    /** Shuts down at once (no grace) and closes every held descriptor. */
    @Override
    public void close() {
        shutdown(Duration.ZERO);
        for (Slot slot : slots.drain()) {
            Descriptors.close(slot.descriptor());
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            // The lock goes with the channel; the kernel releases it at exit in any case.
        }
    }
}
