package dev.fabric.core.signature;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReceiverAuthoritiesTest {

    static URI at(String authority) {
        return URI.create("http://" + authority + "/instances");
    }

    @Test
    void exactEntryAcceptsOnlyItsHostAndPort() {
        ReceiverAuthorities authorities = ReceiverAuthorities.of(List.of("fabric-registry.fabric.svc:8470"));
        assertThat(authorities.accepts(at("fabric-registry.fabric.svc:8470"))).isTrue();
        assertThat(authorities.accepts(at("FABRIC-REGISTRY.fabric.svc:8470"))).isTrue();
        assertThat(authorities.accepts(at("fabric-registry.fabric.svc:8471"))).isFalse();
        assertThat(authorities.accepts(at("member-b:8470"))).isFalse();
    }

    @Test
    void wildcardPortAcceptsEveryPortOfItsHost() {
        ReceiverAuthorities authorities = ReceiverAuthorities.of(List.of("localhost:*", "127.0.0.1:*"));
        assertThat(authorities.accepts(at("localhost:32768"))).isTrue();
        assertThat(authorities.accepts(at("127.0.0.1:1"))).isTrue();
        assertThat(authorities.accepts(at("10.0.0.7:32768"))).isFalse();
    }

    @Test
    void bareHostAcceptsTheProcesssOwnPortsOnly() {
        ReceiverAuthorities authorities = ReceiverAuthorities.of(List.of("member-a", "::1"));
        assertThat(authorities.accepts(at("member-a:8471"))).isFalse();
        authorities.addOwnPort(8471);
        assertThat(authorities.accepts(at("member-a:8471"))).isTrue();
        assertThat(authorities.accepts(at("[::1]:8471"))).isTrue();
        assertThat(authorities.accepts(at("member-a:8472"))).isFalse();
    }

    @Test
    void defaultPortsCountAsTheSchemesPort() {
        ReceiverAuthorities authorities = ReceiverAuthorities.of(List.of("fabric.example:443", "[::1]:80"));
        assertThat(authorities.accepts(URI.create("https://fabric.example/x"))).isTrue();
        assertThat(authorities.accepts(URI.create("http://[::1]/x"))).isTrue();
        assertThat(authorities.accepts(URI.create("http://fabric.example/x"))).isFalse();
    }

    @Test
    void starAcceptsEverything() {
        assertThat(ReceiverAuthorities.any().accepts(at("anything:1"))).isTrue();
    }

    @Test
    void badEntriesAreRefusedWithTheirForm() {
        assertThatThrownBy(() -> ReceiverAuthorities.of(List.of("host:http"))).hasMessageContaining("host:port");
        assertThatThrownBy(() -> ReceiverAuthorities.of(List.of("host:0"))).hasMessageContaining("1 to 65535");
        assertThatThrownBy(() -> ReceiverAuthorities.of(List.of(" "))).hasMessageContaining("blank");
    }
}
