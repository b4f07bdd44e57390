package dev.fabric.core.client;

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
