package dev.fabric.spawner.role.bridge;

import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.client.Reach;
import dev.fabric.core.signature.ReceiverAuthorities;
import dev.fabric.core.signature.ReplayCache;
import dev.fabric.core.signature.SignableRequest;
import dev.fabric.core.signature.SignatureRejectedException;
import dev.fabric.core.signature.SignatureVerifier;
import dev.fabric.core.signature.VerificationPolicy;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.spring.SignatureAuthenticationFilter;
import dev.fabric.spawner.member.MemberKeys;
import dev.fabric.spawner.member.MemberNode;
import dev.fabric.spawner.reach.HopByHop;
import dev.fabric.spawner.reach.RelayFrame;
import dev.fabric.spawner.reach.ReverseChannel;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The relay (docs/connectivity.md, "The bridge"): every request that reaches a bridge's relay port,
 * other than a member opening its channel, is relayed unchanged to the authority it is addressed to
 * (sent as to an HTTP proxy, its target is its destination's own URL, which its signature covers):
 * <ul>
 *   <li>inward, down the reverse channel of the member with that URL ({@link BridgeChannels});</li>
 *   <li>outward, to the registry or a registered member's endpoint, over a connection of its own.</li>
 * </ul>
 * It relays only requests signed with a fabric key (checked here without spending the nonce: the
 * destination verifies them fully) and the one unsigned call a member makes, the redemption of its
 * one-time password, whose answer is sealed to the member. Anything else is refused with a
 * {@code problem+json} that names the reason, as is a request beyond one of the bridge's limits.
 */
public final class BridgeRelay extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(BridgeRelay.class);
    private static final String REDEEM = "/bootstrap/v1/redeem";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final BridgeRole role;
    private final BridgeChannels channels;
    private final MemberNode node;
    private final SignatureVerifier signed;
    private final JsonMapper json = JsonMapper.builder().build();
    // Made at the first request relayed outward: this filter is in every member, and a JDK client made at
    // start-up costs each one a selector thread and its workers, which only a bridge ever uses (the TLS
    // context is made later still, at a first TLS connection: FabricRestClients).
    private final SingletonSupplier<HttpClient> outward = SingletonSupplier.of(() -> FabricRestClients.httpClient(CONNECT_TIMEOUT, null));
    private final Map<InetSocketAddress, HttpClient> nextBridges = new ConcurrentHashMap<>();
    private volatile Routes routes = new Routes(Set.of(), Map.of());
    private final RouteRefresh refresh = new RouteRefresh(Duration.ofSeconds(1));

    public BridgeRelay(BridgeRole role, BridgeChannels channels, MemberNode node, MemberKeys keys) {
        this.role = role;
        this.channels = channels;
        this.node = node;
        // Any authority: the bridge is not the destination. A cache of its own: the destination's nonce stays unspent.
        this.signed = new SignatureVerifier(keys, VerificationPolicy.defaults(), new ReplayCache(100_000, Clock.systemUTC()),
                Clock.systemUTC(), ReceiverAuthorities.any());
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        BridgeRole.Running bridge = role.running();
        if (bridge == null || request.getLocalPort() != bridge.port()) {
            return true;
        }
        // A member opening its channel: the bridge's own endpoint, through the signature filter like any other.
        // A side of a circuit (mode 4's fallback) likewise: the initiator's opening is signed, the peer's path is open.
        String path = request.getRequestURI();
        String upgrade = request.getHeader("Upgrade");
        return ReverseChannel.PATH.equals(path) && "websocket".equalsIgnoreCase(upgrade)
                || (dev.fabric.spawner.reach.Circuit.INITIATOR_PATH.equals(path) || dev.fabric.spawner.reach.Circuit.PEER_PATH.equals(path))
                && dev.fabric.spawner.reach.Circuit.UPGRADE.equalsIgnoreCase(upgrade);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        BridgeRole.Running bridge = role.running();
        SignableRequest view;
        try {
            view = SignatureAuthenticationFilter.view(request);
        } catch (IllegalArgumentException e) {
            refuse(request, response, 400, "bridge-bad-target", "the request's target cannot be read: " + e.getMessage(), "bad-target");
            return;
        }
        boolean bodyAnnounced = request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null;
        if (!(REDEEM.equals(request.getRequestURI()) && "POST".equals(request.getMethod()))) {
            try {
                signed.verifyHeaders(view, bodyAnnounced);
            } catch (SignatureRejectedException e) {
                refuse(request, response, 401, "bridge-unsigned", "bridge " + bridge.bridgeId() + " relays only requests signed with a "
                        + "fabric key: " + e.getMessage(), "unsigned");
                return;
            }
        }
        long max = bridge.settings().maxCircuitBytes();
        if (request.getContentLengthLong() > max) {
            refuse(request, response, 413, "bridge-circuit-too-large", "the request's body of " + request.getContentLengthLong()
                    + " bytes is over bridge " + bridge.bridgeId() + "'s limit of " + max + " bytes (" + BridgeSettings.MAX_CIRCUIT_BYTES + ")",
                    "bytes");
            return;
        }
        if (!bridge.circuits().tryAcquire()) {
            refuse(request, response, 503, "bridge-full", "bridge " + bridge.bridgeId() + " relays its limit of "
                    + bridge.settings().maxCircuits() + " exchanges at once (" + BridgeSettings.MAX_CIRCUITS + "); retry in a moment",
                    "circuits");
            return;
        }
        try {
            byte[] body = readBody(request.getInputStream(), max);
            if (body == null) {
                refuse(request, response, 413, "bridge-circuit-too-large", "the request's body is over bridge " + bridge.bridgeId()
                        + "'s limit of " + max + " bytes (" + BridgeSettings.MAX_CIRCUIT_BYTES + ")", "bytes");
                return;
            }
            String authority = view.target().getRawAuthority();
            BridgeChannels.Channel channel = channels.channelFor(authority);
            Routes routes = channel == null ? routes(authority) : null;
            ServiceInstance next = routes == null ? null : routes.nextBridge().get(authority);
            if (channel != null) {
                inward(bridge, channel, request, response, view, body);
            } else if (routes.direct().contains(authority)) {
                outward(bridge, outward.obtain(), request, response, view, body);
            } else if (next != null) {
                // A bridge chain: the member is reached through another bridge, which this one reaches down that
                // bridge's own channel, or straight at its relay port. The request goes on unchanged.
                String nextAuthority = authorityOf(next.endpoints().get("management"));
                BridgeChannels.Channel nextChannel = nextAuthority == null ? null : channels.channelFor(nextAuthority);
                if (nextChannel != null) {
                    inward(bridge, nextChannel, request, response, view, body);
                } else if (next.endpoints().get(Reach.RELAY) != null) {
                    outward(bridge, throughBridge(Reach.relayOf(next)), request, response, view, body);
                } else {
                    refuse(request, response, 502, "bridge-no-route", authority + " is reached through bridge " + next.id()
                            + ", which bridge " + bridge.bridgeId() + " has no channel from and which publishes no relay endpoint "
                            + "(is it restarting?)", "no-route");
                }
            } else {
                refuse(request, response, 502, "bridge-no-route", "bridge " + bridge.bridgeId() + " has no channel from " + authority
                        + " and it is not the registry nor a member the registry shows reached directly; if a member is reached "
                        + "through this bridge, its channel is closed (is it restarting?)", "no-route");
            }
        } finally {
            bridge.circuits().release();
        }
    }

    private void inward(BridgeRole.Running bridge, BridgeChannels.Channel channel, HttpServletRequest request, HttpServletResponse response,
                        SignableRequest view, byte[] body) throws IOException {
        RelayFrame.Response answer;
        try {
            answer = channels.send(channel, request.getMethod(), view.target().toString(), headers(request), body)
                    .get(bridge.settings().idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            refuse(request, response, 504, "bridge-timeout", "member " + channel.memberId() + " did not answer through bridge "
                    + bridge.bridgeId() + " within " + bridge.settings().idleTimeout().toSeconds() + " s ("
                    + BridgeSettings.IDLE_TIMEOUT + ")", "timeout");
            return;
        } catch (ExecutionException | IOException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            refuse(request, response, 502, "bridge-channel-closed", "the channel of member " + channel.memberId() + " failed: "
                    + cause.getMessage(), "channel-closed");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            refuse(request, response, 503, "bridge-stopping", "bridge " + bridge.bridgeId() + " is stopping", "stopping");
            return;
        }
        if ((long) body.length + answer.body().length > bridge.settings().maxCircuitBytes()) {
            refuse(request, response, 502, "bridge-circuit-too-large", "member " + channel.memberId() + "'s answer of "
                    + answer.body().length + " bytes is over bridge " + bridge.bridgeId() + "'s limit of "
                    + bridge.settings().maxCircuitBytes() + " bytes (" + BridgeSettings.MAX_CIRCUIT_BYTES + ")", "bytes");
            return;
        }
        relayed("inward", body.length + answer.body().length);
        response.setStatus(answer.status());
        for (RelayFrame.Header header : answer.headers()) {
            if (!HopByHop.dropped(header.name())) {
                response.addHeader(header.name(), header.value());
            }
        }
        response.setContentLength(answer.body().length);
        response.getOutputStream().write(answer.body());
    }

    private void outward(BridgeRole.Running bridge, HttpClient outward, HttpServletRequest request, HttpServletResponse response, SignableRequest view,
                         byte[] body) throws IOException {
        HttpRequest.Builder forward = HttpRequest.newBuilder(view.target()).timeout(bridge.settings().idleTimeout())
                .method(request.getMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (RelayFrame.Header header : headers(request)) {
            try {
                forward.header(header.name(), header.value());
            } catch (IllegalArgumentException restricted) {
                // A field the JDK client sets itself.
            }
        }
        HttpResponse<InputStream> answer;
        try {
            answer = outward.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            refuse(request, response, 504, "bridge-timeout", view.target().getRawAuthority() + " did not answer bridge " + bridge.bridgeId()
                    + " within " + bridge.settings().idleTimeout().toSeconds() + " s (" + BridgeSettings.IDLE_TIMEOUT + ")", "timeout");
            return;
        } catch (IOException e) {
            refuse(request, response, 502, "bridge-destination-unreachable", "bridge " + bridge.bridgeId() + " cannot reach "
                    + view.target().getRawAuthority() + ": " + FabricRestClients.describeFailure(e), "unreachable");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            refuse(request, response, 503, "bridge-stopping", "bridge " + bridge.bridgeId() + " is stopping", "stopping");
            return;
        }
        response.setStatus(answer.statusCode());
        answer.headers().map().forEach((name, values) -> {
            if (!HopByHop.dropped(name) && !name.startsWith(":")) {
                values.forEach(value -> response.addHeader(name, value));
            }
        });
        long limit = bridge.settings().maxCircuitBytes() - body.length;
        long copied = 0;
        // Streamed (a registry watch lives long), but never past the circuit's limit.
        try (InputStream in = answer.body()) {
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (copied + n > limit) {
                    role.refused("bytes");
                    log.warn("bridge {}: the answer of {} passed the circuit limit; cut", bridge.bridgeId(), view.target());
                    break;
                }
                response.getOutputStream().write(buffer, 0, n);
                response.getOutputStream().flush();
                copied += n;
            }
        }
        relayed("outward", body.length + copied);
        if (REDEEM.equals(request.getRequestURI()) && answer.statusCode() / 100 == 2) {
            // The one unsigned call it relays: say whose (never the password), so an operator sees a member redeem through it.
            log.info("bridge {}: relayed member {}'s redemption of its one-time password to {}", bridge.bridgeId(), redeemer(body),
                    view.target().getRawAuthority());
        }
    }

    /** The service id a redemption names, or "?" when its body says none. */
    private String redeemer(byte[] body) {
        try {
            return json.readTree(body).path("serviceId").asString("?");
        } catch (RuntimeException e) {
            return "?";
        }
    }

    /**
     * Where a bridge relays outward: straight to the registry and to the members the registry shows
     * with their own endpoints; to a member reached through another bridge, through that bridge.
     * Nowhere else.
     *
     * @param direct the authorities relayed to straight
     * @param nextBridge the authorities of members reached through another bridge, and that bridge
     */
    private record Routes(Set<String> direct, Map<String, ServiceInstance> nextBridge) {

        boolean knows(String authority) {
            return direct.contains(authority) || nextBridge.containsKey(authority);
        }
    }

    /**
     * The routes, read from the registry again for an authority they do not know: at once for one not
     * missed lately, at most once a second for one missed ({@link RouteRefresh}).
     */
    private Routes routes(String authority) {
        Routes known = routes;
        long now = System.nanoTime();
        if (known.knows(authority) || !refresh.readAgain(authority, now)) {
            return known;
        }
        Routes read = read();
        if (read.knows(authority)) {
            refresh.found(authority);
        } else {
            refresh.missed(authority, now);
        }
        return read;
    }

    /** The routes as the registry shows them now; the registry alone when it cannot list its members. */
    private Routes read() {
        Set<String> direct = new HashSet<>();
        direct.add(node.registry().baseUrl().getRawAuthority());
        Map<String, ServiceInstance> nextBridge = new HashMap<>();
        try {
            List<ServiceInstance> instances = node.registry().list(null, null, null, null).instances();
            Map<String, ServiceInstance> byId = new HashMap<>();
            instances.forEach(instance -> byId.put(instance.id(), instance));
            String self = role.running() == null ? null : role.running().bridgeId();
            for (ServiceInstance instance : instances) {
                if (instance.endpoints() == null) {
                    continue;
                }
                String via = instance.metadata() == null ? null : instance.metadata().get(Reach.VIA);
                ServiceInstance next = via == null || via.equals(self) ? null : byId.get(via);
                if (via != null && next == null) {
                    continue; // reached through this bridge (its channel is closed now), or through one gone
                }
                for (String url : instance.endpoints().values()) {
                    String a = authorityOf(url);
                    if (a != null && next == null) {
                        direct.add(a);
                    } else if (a != null) {
                        nextBridge.put(a, next);
                    }
                }
            }
            Routes read = new Routes(Set.copyOf(direct), Map.copyOf(nextBridge));
            routes = read;
            return read;
        } catch (RegistryCallException e) {
            log.warn("bridge: the registry cannot list the fabric's members ({}); relaying to the registry only", e.getMessage());
            return new Routes(Set.copyOf(direct), Map.of());
        }
    }

    private static String authorityOf(String url) {
        try {
            return url == null ? null : URI.create(url).getRawAuthority();
        } catch (IllegalArgumentException e) {
            return null; // not a URL: not a destination
        }
    }

    /** A client that sends requests on through the relay port of the next bridge of a chain, as to an HTTP proxy. */
    private HttpClient throughBridge(InetSocketAddress relay) {
        return nextBridges.computeIfAbsent(relay, address -> FabricRestClients.httpClient(CONNECT_TIMEOUT, address));
    }

    private static List<RelayFrame.Header> headers(HttpServletRequest request) {
        List<RelayFrame.Header> headers = new ArrayList<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            if (!HopByHop.dropped(name)) {
                for (String value : Collections.list(request.getHeaders(name))) {
                    headers.add(new RelayFrame.Header(name, value));
                }
            }
        }
        return headers;
    }

    /** The body, or null when it is longer than {@code max}. */
    private static byte[] readBody(InputStream in, long max) throws IOException {
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        return body.length > max ? null : body;
    }

    private void relayed(String direction, long bytes) {
        role.meters().counter(BridgeRole.BYTES_METRIC, "direction", direction).increment(bytes);
        role.meters().counter(BridgeRole.EXCHANGES_METRIC, "direction", direction).increment();
    }

    private void refuse(HttpServletRequest request, HttpServletResponse response, int status, String reason, String detail, String metric)
            throws IOException {
        role.refused(metric);
        log.info("bridge refused {} {} for {}: {} ({})", request.getMethod(), request.getRequestURI(), request.getServerName(), reason, detail);
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", dev.fabric.core.problem.Problem.typeOf(reason));
        problem.put("title", "Refused by the bridge");
        problem.put("status", status);
        problem.put("detail", detail);
        problem.put("reason", reason);
        response.setStatus(status);
        if (status == 503) {
            response.setHeader("Retry-After", "1");
        }
        response.setContentType("application/problem+json");
        response.getOutputStream().write(json.writeValueAsBytes(problem));
    }
}
