package dev.fabric.spawner.reach;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What replaces a mode 4 bootstrap's connection that dropped (docs/connectivity.md). */
class SpliceOrRelayTest {

    @Test
    void bothSidesNameTheSameFollowUpCircuitPerDrop() {
        assertThat(SpliceOrRelay.followUp("rv-abcdefgh", 1)).isEqualTo("rv-abcdefgh-r1");
        assertThat(SpliceOrRelay.followUp("rv-abcdefgh", 3)).isEqualTo("rv-abcdefgh-r3").matches(Circuit.RENDEZVOUS_PATTERN);
        assertThatThrownBy(() -> SpliceOrRelay.followUp("rv-abcdefgh", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SpliceOrRelay.followUp("rv-abcdefgh", SpliceOrRelay.MAX_DROPS + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aDropWithoutABridgeIsNotRelayed() {
        assertThatThrownBy(() -> SpliceOrRelay.resume(null, "rv-abcdefgh", 1, null, Duration.ofSeconds(1)))
                .isInstanceOf(SpliceOrRelay.NoRelayException.class).hasMessage("no bridge (via) to relay through");
    }

    @Test
    void aConnectionThatKeepsDroppingIsNotReplacedForever() throws Exception {
        // Nobody is asked: the limit is checked before any circuit is opened.
        try (ServerSocket nobody = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            URI via = URI.create("http://127.0.0.1:" + nobody.getLocalPort());
            assertThatThrownBy(() -> SpliceOrRelay.resume(via, "rv-abcdefgh", SpliceOrRelay.MAX_DROPS + 1, null, Duration.ofSeconds(1)))
                    .isInstanceOf(SpliceOrRelay.NoRelayException.class)
                    .hasMessage("it dropped " + (SpliceOrRelay.MAX_DROPS + 1) + " times (at most " + SpliceOrRelay.MAX_DROPS + " are replaced)");
        }
    }
}
