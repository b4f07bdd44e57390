package dev.fabric.core.client;

import java.util.Set;
import java.util.LinkedHashSet;
import java.util.function.Function;
import dev.fabric.core.registry.ServiceInstance;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;

/**
 * How a member is reached, as its registration records it (docs/connectivity.md, "How members
 * stay reachable"). Its endpoints are always its own URLs, the targets its requests are signed
 * for; a member that cannot take connections from outside adds the metadata {@value #VIA}: the id
 * of the bridge member whose relay port its callers send their requests through, as to an HTTP
 * proxy. The bridge publishes that port as its {@value #RELAY} endpoint.
 */
public sealed interface Reach {

    /** Metadata key of a member reached through a bridge: the bridge member's id. */
    String VIA = "via";

    /**
     * Metadata key of a member bootstrapped in mode 4: how its connection with its spawner was made,
     * {@code spliced LOCAL <-> REMOTE} (the addresses of the spliced TCP connection, its own side
     * first) or {@code relayed through bridge ID (...)} when splicing failed.
     */
    String SPLICE = "splice";

    /** Metadata key: when that connection was made (ISO-8601). */
    String SPLICE_SINCE = "splice.since";

    /**
     * Metadata key of a running member in mode 4: how the last caller that asked for a splice on
     * demand reached it, {@code spliced LOCAL <-> REMOTE} (its own side first, {@code (an upgrade from
     * the bridge)} when the caller had been relayed) or {@code relayed through bridge ID (splice failed
     * (REASON))} (docs/connectivity.md).
     */
    String ON_DEMAND = "splice.on-demand";

    /** Metadata key: when that happened (ISO-8601). */
    String ON_DEMAND_SINCE = "splice.on-demand.since";

    /** The endpoint a bridge member publishes for its relay port ({@code http://host:port}). */
    String RELAY = "relay";

    /** Callers connect to the member's endpoints themselves. */
    record Direct() implements Reach {}

    /** Callers send their requests through the relay port of the bridge member {@code bridgeId}. */
    record Via(String bridgeId) implements Reach {}

    /** What the member's registration says. */
    static Reach of(ServiceInstance member) {
        Map<String, String> metadata = member.metadata();
        String via = metadata == null ? null : metadata.get(VIA);
        return via == null || via.isBlank() ? new Direct() : new Via(via);
    }

    /**
     * The bridge a caller sends a member's requests to: the member's own bridge, or, when that
     * bridge is itself reached through a bridge (a bridge chain: a compute node's bridge on a head
     * node that only its gateway's bridge reaches), the outermost bridge of the chain, which passes
     * them on inward (docs/connectivity.md, "Bridge chains").
     *
     * @param bridge the bridge the member's {@value #VIA} names
     * @param lookup the registry's record of a member by id
     * @throws IllegalArgumentException when the chain loops or is longer than {@value #MAX_CHAIN} bridges
     */
    static ServiceInstance outermost(ServiceInstance bridge, Function<String, ServiceInstance> lookup) {
        ServiceInstance outer = bridge;
        Set<String> seen = new LinkedHashSet<>();
        while (of(outer) instanceof Via(String next)) {
            if (!seen.add(outer.id()) || seen.size() >= MAX_CHAIN) {
                throw new IllegalArgumentException("the bridges " + seen + " are reached through one another in a loop, or in a chain "
                        + "longer than " + MAX_CHAIN);
            }
            outer = lookup.apply(next);
        }
        return outer;
    }

    /** The longest chain of bridges followed. */
    int MAX_CHAIN = 8;

    /**
     * The relay port a bridge publishes, as the address of an HTTP proxy.
     *
     * @throws IllegalArgumentException when the bridge publishes no usable {@value #RELAY} endpoint
     */
    static InetSocketAddress relayOf(ServiceInstance bridge) {
        String url = bridge.endpoints() == null ? null : bridge.endpoints().get(RELAY);
        if (url == null) {
            throw new IllegalArgumentException("bridge " + bridge.id() + " (" + FailOver.describe(bridge)
                    + ") publishes no '" + RELAY + "' endpoint in the registry");
        }
        URI uri = URI.create(url);
        if (uri.getHost() == null || uri.getPort() < 1) {
            throw new IllegalArgumentException("bridge " + bridge.id() + " publishes the relay endpoint '" + url
                    + "', which is not http://host:port");
        }
        return InetSocketAddress.createUnresolved(uri.getHost(), uri.getPort());
    }
}
