package dev.fabric.core.client;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.SpliceGateway;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.Splicer;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link SpliceGateway}s of one caller (a {@link FabricClient}, the CLI), one per incarnation of
 * each mode 4 member it calls: a member in mode 4 that names a bridge is reached over spliced
 * connections made on demand, and through its bridge when splicing fails (docs/connectivity.md).
 *
 * <p>The invitation: a rendezvous opened at the registry for the member (it joins with the fabric key),
 * and {@code POST /management/v1/splices} to the member through its bridge, the one path to it that
 * needs no splice, which tells it to join (libp2p's DCUtR coordinates over its relay the same way).
 */
public final class SplicedReach implements AutoCloseable {

    /** How long a rendezvous for an on-demand splice waits for both sides. */
    private static final int RENDEZVOUS_TTL_SECONDS = 30;

    private final RegistryClient registry;
    private final FabricKeys keys;
    private final Duration connectTimeout;
    private final Map<String, SpliceGateway> gateways = new ConcurrentHashMap<>();
    /** The JDK client each gateway's invitations go through, by the gateway's key. */
    private final Map<String, HttpClient> invitations = new ConcurrentHashMap<>();

    public SplicedReach(RegistryClient registry, FabricKeys keys, Duration connectTimeout) {
        this.registry = registry;
        this.keys = keys;
        this.connectTimeout = connectTimeout;
    }

    /** Whether a member is reached this way: in mode 4, with a bridge to invite it through and fall back to. */
    public static boolean applies(ServiceInstance member) {
        return member.connectivity() == Connectivity.SPLICED && Reach.of(member) instanceof Reach.Via;
    }

    /**
     * The gateway to this incarnation of {@code member}, opened on first use.
     *
     * @param relay the relay port of the bridge the member is reached through (the outermost of a chain)
     */
    public SpliceGateway gateway(ServiceInstance member, InetSocketAddress relay) {
        String management = member.endpoints() == null ? null : member.endpoints().get(FabricClient.MANAGEMENT);
        if (management == null) {
            throw new IllegalArgumentException("member " + member.id() + " publishes no management endpoint to invite to a splice");
        }
        return gateway(member.id(), member.incarnation(), URI.create(management), relay);
    }

    /** {@link #gateway(ServiceInstance, InetSocketAddress)} by the parts of a registration it needs. */
    public SpliceGateway gateway(String memberId, long incarnation, URI management, InetSocketAddress relay) {
        String key = memberId + "#" + incarnation + "@" + relay;
        SpliceGateway existing = gateways.get(key);
        if (existing != null) {
            return existing;
        }
        // An older incarnation's gateway (or one through another bridge) serves nobody any more.
        gateways.entrySet().removeIf(e -> {
            boolean stale = e.getKey().startsWith(memberId + "#") && !e.getKey().equals(key);
            if (stale) {
                e.getValue().close();
                release(e.getKey());
            }
            return stale;
        });
        return gateways.computeIfAbsent(key, k -> open(k, memberId, management, relay));
    }

    /** The gateways opened so far, by member id, incarnation and bridge. */
    public Map<String, SpliceGateway> gateways() {
        return Map.copyOf(gateways);
    }

    private SpliceGateway open(String key, String memberId, URI management, InetSocketAddress relay) {
        HttpClient bridgeHttp = FabricRestClients.httpClient(connectTimeout, relay);
        invitations.put(key, bridgeHttp);
        RestClient throughBridge = FabricRestClients.signed(keys, FabricRestClients.requestFactory(bridgeHttp, Duration.ofSeconds(10))).build();
        URI invite = management.resolve("/management/v1/splices");
        SpliceGateway.Invitation invitation = upgrade -> {
            try {
                String id = registry.openRendezvous(new RendezvousWire.Open(memberId, null, RENDEZVOUS_TTL_SECONDS)).id();
                throughBridge.post().uri(invite).contentType(MediaType.APPLICATION_JSON).body(new RendezvousWire.Invite(id, upgrade))
                        .retrieve().toBodilessEntity();
                return id;
            } catch (RestClientException | dev.fabric.core.registry.RegistryCallException e) {
                throw new IOException(e.getMessage(), e);
            }
        };
        Splicer splicer = new Splicer(registry.baseUrl(), new RequestSigner(keys, Clock.systemUTC()), SpliceSchedule.ON_DEMAND,
                Clock.systemUTC());
        try {
            return SpliceGateway.open(memberId, invitation, splicer, relay, connectTimeout, Clock.systemUTC());
        } catch (IOException e) {
            release(key);
            throw new UncheckedIOException("cannot open a loopback port for the splices with member " + memberId, e);
        }
    }

    private void release(String key) {
        HttpClient http = invitations.remove(key);
        if (http != null) {
            FabricRestClients.release(http);
        }
    }

    /** Closes every gateway and releases the clients of their invitations. */
    @Override
    public void close() {
        gateways.values().forEach(SpliceGateway::close);
        gateways.clear();
        List.copyOf(invitations.keySet()).forEach(this::release);
    }
}
