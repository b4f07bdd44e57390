package dev.fabric.core.splice;

import dev.fabric.core.signature.RequestSigner;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.HttpProcessors;
import org.apache.hc.core5.http.impl.io.DefaultBHttpClientConnection;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.apache.hc.core5.http.protocol.HttpProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * One side of a TCP splice (seed 003, note (1)), the registry as the broker:
 *
 * <ol>
 *   <li>binds a local port P and opens <em>one real connection</em> from P to the registry, which it
 *       keeps open until the splice is done;</li>
 *   <li>over it, sends its signed join ({@code POST /rendezvous/v1/ID/SIDE}) until the registry, which
 *       records the address and port each join came from, answers that both sides have joined: it
 *       learns its own public address and port, the other side's, and when to start;</li>
 *   <li>at the start, dials the other side's public address from P again and again
 *       ({@link SpliceSchedule}) while the other side does the same: the SYNs cross, each passes the
 *       other's NAT as the reply to the mapping its own SYN made, and one connection opens (TCP
 *       simultaneous open).</li>
 * </ol>
 *
 * Why the kept connection and not the seed's broker that answers each SYN with a reset: a reset seen
 * by the side's NAT closes the mapping the broker just recorded, and a NAT that then maps P afresh
 * (to another port) defeats the splice; a connection that stays open keeps the mapping alive, with
 * the same public port, while the side dials the peer from the same port (SO_REUSEADDR and
 * SO_REUSEPORT let two connections share P, their 4-tuples differing). It also carries a plain signed
 * HTTP exchange instead of a protocol of its own.
 */
public final class Splicer {

    private static final Logger log = LoggerFactory.getLogger("fabric.splice");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration BROKER_TIMEOUT = Duration.ofSeconds(10);

    private final URI registry;
    private final RequestSigner signer;
    private final SpliceSchedule schedule;
    private final Clock clock;

    /**
     * @param registry the registry's base URL, {@code http://host:port}
     * @param signer signs the joins: the fabric key, or the member's {@link BootstrapIdentity} during its bootstrap
     */
    public Splicer(URI registry, RequestSigner signer, SpliceSchedule schedule, Clock clock) {
        if (!"http".equals(registry.getScheme()) || registry.getPort() < 0) {
            throw new IllegalArgumentException("the registry's URL for a splice is http://host:port, not " + registry);
        }
        this.registry = registry;
        this.signer = signer;
        this.schedule = schedule;
        this.clock = clock;
    }

    /**
     * Splices this side of rendezvous {@code id} with the other.
     *
     * @throws SpliceException with the reason when no connection opened
     */
    public SplicedConnection splice(String id, Side side) throws SpliceException {
        Instant begun = clock.instant();
        String path = "/rendezvous/v1/" + id + "/" + side.wireName();
        try (Socket broker = boundSocket(0)) {
            try {
                broker.connect(new InetSocketAddress(registry.getHost(), registry.getPort()), (int) BROKER_TIMEOUT.toMillis());
                broker.setSoTimeout((int) BROKER_TIMEOUT.toMillis());
            } catch (IOException e) {
                throw new SpliceException(SpliceException.Reason.BROKER_UNREACHABLE, "cannot reach the registry at " + registry
                        + " to splice: " + e.getMessage(), e);
            }
            int port = broker.getLocalPort();
            RendezvousWire.Joined ready = awaitPeer(broker, path, begun);
            log.info("rendezvous {}: {} at {} (local port {}), peer at {}, dialing in {} ms", id, side.wireName(),
                    ready.observed(), port, ready.peerAddress(), ready.startInMillis());
            sleep(Duration.ofMillis(Math.max(0, ready.startInMillis())));
            return dial(port, address(ready.peerAddress()), ready.observed(), begun);
        } catch (IOException e) {
            if (e instanceof SpliceException splice) {
                throw splice;
            }
            throw new SpliceException(SpliceException.Reason.BROKER_UNREACHABLE, "the registry connection failed: " + e.getMessage(), e);
        }
    }

    private RendezvousWire.Joined awaitPeer(Socket broker, String path, Instant begun) throws IOException {
        DefaultBHttpClientConnection connection = new DefaultBHttpClientConnection(Http1Config.DEFAULT);
        connection.bind(broker);
        HttpRequestExecutor executor = new HttpRequestExecutor();
        HttpProcessor processor = HttpProcessors.client();
        HttpHost host = new HttpHost(registry.getScheme(), registry.getHost(), registry.getPort());
        Instant deadline = begun.plus(schedule.patience());
        while (true) {
            ClassicHttpRequest request = new BasicClassicHttpRequest("POST", host, path);
            Map<String, String> signature = signer.sign("POST", registry.resolve(path), Map.of(), new byte[0]);
            signature.forEach(request::setHeader);
            HttpCoreContext context = HttpCoreContext.create();
            String body;
            int status;
            try {
                executor.preProcess(request, processor, context);
                try (ClassicHttpResponse response = executor.execute(request, connection, context)) {
                    executor.postProcess(response, processor, context);
                    status = response.getCode();
                    body = response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity());
                }
            } catch (HttpException e) {
                throw new SpliceException(SpliceException.Reason.BROKER_UNREACHABLE, "the registry's answer is not HTTP: " + e.getMessage(), e);
            }
            if (status != 200) {
                JsonNode problem = readJson(body);
                throw new SpliceException(SpliceException.Reason.REFUSED, "the registry refused the rendezvous: "
                        + problem.path("reason").asString(String.valueOf(status)) + " (" + problem.path("detail").asString(body) + ")");
            }
            RendezvousWire.Joined joined;
            try {
                joined = JSON.readValue(body, RendezvousWire.Joined.class);
            } catch (RuntimeException e) {
                throw new SpliceException(SpliceException.Reason.BROKER_UNREACHABLE, "the registry's answer is unreadable: " + body, e);
            }
            if (joined.state() == RendezvousWire.State.READY) {
                return joined;
            }
            if (clock.instant().isAfter(deadline)) {
                throw new SpliceException(SpliceException.Reason.PEER_NEVER_ARRIVED, "the " + other(joined.side())
                        + " did not join rendezvous " + joined.id() + " within " + schedule.patience());
            }
            sleep(schedule.poll());
        }
    }

    private SplicedConnection dial(int port, InetSocketAddress peer, String observed, Instant begun) throws SpliceException {
        Instant start = clock.instant();
        Instant deadline = start.plus(schedule.window());
        int attempts = 0;
        String last = "no attempt";
        while (clock.instant().isBefore(deadline)) {
            attempts++;
            try {
                Socket socket = boundSocket(port);
                try {
                    socket.connect(peer, (int) schedule.connectTimeout().toMillis());
                    socket.setSoTimeout(0);
                    return new SplicedConnection(socket, (InetSocketAddress) socket.getLocalSocketAddress(),
                            (InetSocketAddress) socket.getRemoteSocketAddress(), observed, attempts,
                            Duration.between(begun, clock.instant()), Duration.between(start, clock.instant()));
                } catch (IOException e) {
                    socket.close();
                    throw e;
                }
            } catch (SocketTimeoutException e) {
                last = "no answer (timeout)";
            } catch (ConnectException e) {
                last = "reset (" + e.getMessage() + ")";
                sleep(schedule.afterReset());
            } catch (IOException e) {
                last = e.getMessage();
                sleep(schedule.afterReset());
            }
        }
        throw new SpliceException(SpliceException.Reason.NO_CONNECTION, "no connection to " + peer + " opened within "
                + schedule.window() + " (" + attempts + " attempts from port " + port + "; last: " + last + ")");
    }

    /** A socket bound to {@code port} (0: any) that other sockets of this process may bind to as well. */
    static Socket boundSocket(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setReuseAddress(true);
            if (socket.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                socket.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            socket.bind(new InetSocketAddress(port));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static InetSocketAddress address(String hostAndPort) throws SpliceException {
        int colon = hostAndPort == null ? -1 : hostAndPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new SpliceException(SpliceException.Reason.BROKER_UNREACHABLE, "the registry gave no usable peer address: " + hostAndPort);
        }
        String host = hostAndPort.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(host, Integer.parseInt(hostAndPort.substring(colon + 1)));
    }

    private static JsonNode readJson(String body) {
        try {
            return JSON.readTree(body);
        } catch (RuntimeException e) {
            return JSON.createObjectNode();
        }
    }

    private static String other(Side side) {
        return side == Side.INITIATOR ? "peer" : "initiator";
    }

    private static void sleep(Duration duration) throws SpliceException {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpliceException(SpliceException.Reason.NO_CONNECTION, "interrupted while splicing", e);
        }
    }
}
