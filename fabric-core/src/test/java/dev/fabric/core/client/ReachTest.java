package dev.fabric.core.client;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which bridge a caller sends a member's requests to, from the registry's records alone (docs/connectivity.md, "Bridge chains"). */
class ReachTest {

    private static ServiceInstance bridge(String id, String via, String relay) {
        return new ServiceInstance(id, "bridge", null, InstanceState.RUNNING, null, 1, "spawner-1", Connectivity.DIRECT,
                Map.of("management", "http://" + id + ":9000", Reach.RELAY, relay),
                via == null ? Map.of() : Map.of(Reach.VIA, via), Instant.EPOCH, Instant.EPOCH, null);
    }

    private final ServiceInstance gateway = bridge("bridge-gateway", null, "http://gateway:19150");
    private final ServiceInstance head = bridge("bridge-head", "bridge-gateway", "http://head:19151");
    private final Map<String, ServiceInstance> registry = Map.of(gateway.id(), gateway, head.id(), head);

    @Test
    void aBridgeReachedDirectlyIsTheOneCalled() {
        assertThat(Reach.outermost(gateway, registry::get)).isSameAs(gateway);
    }

    @Test
    void aBridgeBehindABridgeIsCalledThroughTheOuterOne() {
        ServiceInstance outer = Reach.outermost(head, registry::get);

        assertThat(outer).isSameAs(gateway);
        assertThat(Reach.relayOf(outer).getHostString()).isEqualTo("gateway");
        assertThat(Reach.relayOf(outer).getPort()).isEqualTo(19150);
    }

    @Test
    void bridgesReachedThroughEachOtherAreRefusedNotFollowedForever() {
        ServiceInstance a = bridge("bridge-a", "bridge-b", "http://a:1");
        ServiceInstance b = bridge("bridge-b", "bridge-a", "http://b:1");
        Map<String, ServiceInstance> loop = Map.of(a.id(), a, b.id(), b);

        assertThatThrownBy(() -> Reach.outermost(a, loop::get)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("loop");
    }
}
