package dev.fabric.core.splice;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A caller's way to one member in mode 4 after its bootstrap (docs/connectivity.md): a loopback port
 * its HTTP client uses as its proxy, as it would the member's bridge. Each connection the client opens
 * to it is carried to the member by a spliced TCP connection made on demand (a rendezvous at the
 * registry, the member asked to join it through its bridge, both dialing), or, when splicing fails,
 * through the bridge's relay port, as the client would have sent it anyway. Requests keep the member's
 * own URL as their target, so their signatures verify the same whichever way they go.
 *
 * <p>{@link SplicePolicy} decides; this class acts. After a failed splice it retries in the background
 * and keeps the first splice that works as a spare for the next connection: a client that opens a new
 * connection when {@link #upgrades()} grows (FabricClient does) moves its new requests onto it. A spliced
 * connection that drops ends the client's connection with it (the request on it fails, unacknowledged);
 * the next connection splices again, or goes through the bridge.
 */
public final class SpliceGateway implements AutoCloseable {

    /** Opens a rendezvous with the member at the registry and asks the member to join it; answers its id. */
    @FunctionalInterface
    public interface Invitation {
        String invite(boolean upgrade) throws IOException;
    }

    /** Which way the gateway's connections go now, why, and since when. */
    public record Path(Kind kind, String how, Instant since) {

        /** Spliced, or through the bridge. */
        public enum Kind { SPLICED, RELAYED }

        @Override
        public String toString() {
            return how + " (since " + since + ")";
        }
    }

    private static final Logger log = LoggerFactory.getLogger("fabric.splice.gateway");

    private final String memberId;
    private final Invitation invitation;
    private final Splicer splicer;
    private final InetSocketAddress relay;
    private final Duration connectTimeout;
    private final Clock clock;
    private final ServerSocket listener;
    private final SplicePolicy policy = new SplicePolicy();
    private final AtomicLong upgrades = new AtomicLong();
    private final AtomicLong splicedConnections = new AtomicLong();
    private final AtomicLong relayedConnections = new AtomicLong();
    private Socket spare;
    private Thread retrier;
    private volatile Path path;
    private volatile boolean closed;

    private SpliceGateway(String memberId, Invitation invitation, Splicer splicer, InetSocketAddress relay, Duration connectTimeout,
                          Clock clock) throws IOException {
        this.memberId = memberId;
        this.invitation = invitation;
        this.splicer = splicer;
        this.relay = relay;
        this.connectTimeout = connectTimeout;
        this.clock = clock;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.path = new Path(Path.Kind.RELAYED, "not connected yet", clock.instant());
    }

    /**
     * A gateway to member {@code memberId}, listening on a loopback port.
     *
     * @param splicer splices as the initiator (signed with the fabric key), on {@link SpliceSchedule#ON_DEMAND}
     * @param relay the relay port of the member's bridge: where a connection goes when no splice works
     */
    public static SpliceGateway open(String memberId, Invitation invitation, Splicer splicer, InetSocketAddress relay,
                                     Duration connectTimeout, Clock clock) throws IOException {
        SpliceGateway gateway = new SpliceGateway(memberId, invitation, splicer, relay, connectTimeout, clock);
        Thread.ofVirtual().name("splice-gateway-" + memberId).start(gateway::accept);
        return gateway;
    }

    /** The loopback address to use as the HTTP proxy for the member's requests. */
    public InetSocketAddress proxy() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** The way the last connection went, or the spliced connection that is open. */
    public Path path() {
        return path;
    }

    /** How many background retries made a splice after a failure: a client renews its connections when this grows. */
    public long upgrades() {
        return upgrades.get();
    }

    /** Connections carried by a splice, and through the bridge, since the gateway opened. */
    public long splicedConnections() {
        return splicedConnections.get();
    }

    public long relayedConnections() {
        return relayedConnections.get();
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        synchronized (this) {
            if (spare != null) {
                closeQuietly(spare);
                spare = null;
            }
            if (retrier != null) {
                retrier.interrupt();
            }
        }
    }

    private void accept() {
        while (!closed) {
            Socket local;
            try {
                local = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("member {}: the splice gateway stopped accepting: {}", memberId, e.getMessage());
                }
                return;
            }
            Thread.ofVirtual().name("splice-gateway-" + memberId + "-connection").start(() -> carry(local));
        }
    }

    /** Carries one connection of the client's to the member, by the way the policy decides. */
    private void carry(Socket local) {
        Socket remote = null;
        boolean spliced = false;
        SplicePolicy.Decision decision;
        Socket taken = null;
        synchronized (this) {
            decision = policy.decide(spare != null);
            if (decision == SplicePolicy.Decision.SPARE) {
                taken = spare;
                spare = null;
            }
        }
        if (taken != null && alive(taken)) {
            remote = taken;
            spliced = true;
        } else if (decision != SplicePolicy.Decision.RELAY) {
            try {
                SplicedConnection connection = splice(false);
                remote = connection.socket();
                spliced = true;
            } catch (IOException e) {
                // recorded by splice(); this connection goes through the bridge
            }
        }
        if (remote == null) {
            try {
                remote = relay();
            } catch (IOException e) {
                log.warn("member {}: neither a splice nor the bridge at {} carried a connection: {}", memberId, relay, e.getMessage());
                closeQuietly(local);
                return;
            }
            path = new Path(Path.Kind.RELAYED, "relayed through the bridge at " + relay.getHostString() + ":" + relay.getPort()
                    + lastFailure(), path.kind() == Path.Kind.RELAYED && path.how().startsWith("relayed") ? path.since() : clock.instant());
            relayedConnections.incrementAndGet();
            startRetries();
        } else {
            splicedConnections.incrementAndGet();
        }
        SocketPipe.Joined joined = SocketPipe.join(local, remote);
        if (spliced) {
            Socket splicedSocket = remote;
            joined.closed().whenComplete((r, e) -> log.info("member {}: spliced connection {} <-> {} closed ({} bytes out, {} in)",
                    memberId, splicedSocket.getLocalSocketAddress(), splicedSocket.getRemoteSocketAddress(), joined.bytesOut().get(),
                    joined.bytesIn().get()));
        }
    }

    private String failure = "";

    private String lastFailure() {
        synchronized (this) {
            return failure.isEmpty() ? "" : " (" + failure + ")";
        }
    }

    /** One splice with the member; the outcome is the policy's to know. */
    private SplicedConnection splice(boolean upgrade) throws IOException {
        String rendezvous = null;
        try {
            rendezvous = invitation.invite(upgrade);
            SplicedConnection connection = splicer.splice(rendezvous, Side.INITIATOR);
            synchronized (this) {
                policy.spliced();
                failure = "";
            }
            path = new Path(Path.Kind.SPLICED, (upgrade ? "spliced (an upgrade from the bridge) " : "spliced ") + connection.local()
                    + " <-> " + connection.remote(), clock.instant());
            log.info("member {}: {} (rendezvous {}, dial {}, {} ms)", memberId, path.how(), rendezvous, connection.attempts(),
                    connection.elapsed().toMillis());
            return connection;
        } catch (IOException | RuntimeException e) {
            String reason = e instanceof SpliceException splice
                    ? "splice failed: " + splice.reason().name().toLowerCase(Locale.ROOT).replace('_', '-')
                    : "splice failed: " + (rendezvous == null ? "could not open a rendezvous or invite the member: " : "") + e.getMessage();
            Instant next;
            synchronized (this) {
                policy.failed(clock.instant());
                failure = reason;
                next = policy.nextRetry();
            }
            log.info("member {}: {} ({}); through the bridge at {}, next splice attempt at {}", memberId, reason, e.getMessage(), relay, next);
            throw e instanceof IOException io ? io : new IOException(reason, e);
        }
    }

    /** While the policy has retries due, one at a time; ends when one works or the gateway closes. */
    private synchronized void startRetries() {
        if (retrier != null && retrier.isAlive() || closed) {
            return;
        }
        retrier = Thread.ofVirtual().name("splice-retry-" + memberId).start(() -> {
            while (!closed) {
                Instant next;
                synchronized (this) {
                    if (policy.failures() == 0) {
                        return;
                    }
                    next = policy.retryDue(clock.instant()) ? clock.instant() : policy.nextRetry();
                }
                if (next == null || clock.instant().isBefore(next)) {
                    try {
                        Thread.sleep(next == null ? Duration.ofSeconds(1) : Duration.between(clock.instant(), next).plusMillis(1));
                    } catch (InterruptedException e) {
                        return;
                    }
                    continue;
                }
                try {
                    SplicedConnection connection = splice(true);
                    synchronized (this) {
                        if (closed) {
                            closeQuietly(connection.socket());
                            return;
                        }
                        if (spare != null) {
                            closeQuietly(spare);
                        }
                        spare = connection.socket();
                    }
                    upgrades.incrementAndGet();
                    return;
                } catch (IOException e) {
                    // failed(): the next retry is scheduled
                }
            }
        });
    }

    private Socket relay() throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(relay.getHostString(), relay.getPort()), (int) connectTimeout.toMillis());
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** A spare spliced connection the member's side has not closed meanwhile (its web server's idle timeout). */
    private static boolean alive(Socket socket) {
        try {
            socket.setSoTimeout(1);
            InputStream in = socket.getInputStream();
            try {
                // An HTTP server says nothing before the request: end of stream means closed.
                if (in.read() < 0) {
                    socket.close();
                    return false;
                }
                socket.close();
                return false;
            } catch (SocketTimeoutException quiet) {
                socket.setSoTimeout(0);
                return true;
            }
        } catch (IOException e) {
            closeQuietly(socket);
            return false;
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
