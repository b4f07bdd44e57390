package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowUnavailableException;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.testing.TestDaemon;
import dev.fabric.escrow.wire.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Peers are checked by SO_PEERCRED before a byte is read. */
class PeerCredentialsTest {

    @TempDir
    Path dir;

    @Test
    void peerWhoseUidIsNotAllowedIsRefusedBeforeAnyMessageIsRead() throws Exception {
        ByteArrayOutputStream trace = new ByteArrayOutputStream();
        PeerPolicy others = new PeerPolicy(Set.of(Posix.getuid() + 4242), Set.of());
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withPeers(others)
                .withTrace(new PrintStream(trace, true, StandardCharsets.UTF_8)))) {
            try (RawClient raw = RawClient.connect(escrowd.path())) {
                boolean closedBeforeOurWrite = false;
                try {
                    raw.send(new Message.Add(0, 0, -1, "smuggled".getBytes(StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    closedBeforeOurWrite = true; // EPIPE: the daemon had already closed the session
                }
                assertThat(closedBeforeOurWrite || raw.closedWithoutReply(Duration.ofSeconds(5))).isTrue();
            }
            assertThat(escrowd.errors(Rejection.PEER_REFUSED)).isEqualTo(1);
            assertThat(escrowd.stats().totalSlots()).as("the ADD was never read").isZero();
            assertThat(escrowd.stats().sessions()).isZero();
            assertThat(trace.toString(StandardCharsets.UTF_8)).doesNotContain("recv:").contains("Refused peer: uid " + Posix.getuid());
            assertThat(escrowd.isServing()).isTrue();
        }
    }

    @Test
    void refusedPeerGetsNoStatsEither() throws Exception {
        PeerPolicy others = new PeerPolicy(Set.of(Posix.getuid() + 4242), Set.of());
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withPeers(others))) {
            assertThatThrownBy(() -> Escrow.stats(escrowd.path(), false)).isInstanceOf(EscrowUnavailableException.class)
                    .hasMessageContaining("allow-uid");
            assertThat(escrowd.errors(Rejection.PEER_REFUSED)).isEqualTo(1);
        }
    }

    @Test
    void refusedClientSeesTheSessionClosed() throws Exception {
        PeerPolicy others = new PeerPolicy(Set.of(Posix.getuid() + 4242), Set.of());
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withPeers(others));
             Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            assertThatThrownBy(() -> escrow.tag(0)).isInstanceOfSatisfying(EscrowUnavailableException.class,
                    e -> assertThat(e.errno()).isIn(Posix.ESHUTDOWN, Posix.EPIPE, Posix.ECONNRESET));
        }
    }

    @Test
    void allowedGidIsEnoughWhenTheUidIsNotListed() throws Exception {
        PeerPolicy byGroup = new PeerPolicy(Set.of(Posix.getuid() + 4242), Set.of(Posix.getgid()));
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withPeers(byGroup));
             Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(0, 0, new byte[1]);
            assertThat(escrow.tag(0).slots()).isEqualTo(1);
        }
    }

    @Test
    void defaultPolicyIsTheDaemonsOwnUid() {
        assertThat(PeerPolicy.ownUid().uids()).containsExactly(Posix.getuid());
        assertThat(PeerPolicy.ownUid().gids()).isEmpty();
    }
}
