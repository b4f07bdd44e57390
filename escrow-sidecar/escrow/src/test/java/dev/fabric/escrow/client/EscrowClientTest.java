package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client's own behaviour: where it connects, what it refuses, what its errors carry. */
class EscrowClientTest {

    @TempDir
    Path dir;

    @Test
    void pathComesFromEscrowPathWhenNoneIsGiven() throws Exception {
        assertThat(Escrow.resolvePath(null, Map.of("ESCROW_PATH", "/run/escrow/usock"))).isEqualTo(Path.of("/run/escrow/usock"));
        assertThat(Escrow.resolvePath(Path.of("/given"), Map.of("ESCROW_PATH", "/ignored"))).isEqualTo(Path.of("/given"));
        assertThatThrownBy(() -> Escrow.resolvePath(null, Map.of())).isInstanceOfSatisfying(EscrowException.class,
                e -> assertThat(e.errno()).isEqualTo(Posix.EINVAL));
    }

    @Test
    void nobodyListeningWithoutCreatIsEnoent() {
        assertThatThrownBy(() -> Escrow.open(dir.resolve("none"), 0, 8)).isInstanceOfSatisfying(EscrowUnavailableException.class, e -> {
            assertThat(e.errno()).isEqualTo(Posix.ENOENT);
            assertThat(e.getMessage()).contains("escrow daemon").contains("CREAT");
        });
    }

    @Test
    void staleSocketWithoutCreatIsEconnrefused() throws Exception {
        Path stale = dir.resolve("stale");
        AFUNIXServerSocket dead = AFUNIXServerSocket.newInstance();
        dead.setDeleteOnClose(false);
        dead.bind(AFUNIXSocketAddress.of(stale));
        dead.close();
        assertThatThrownBy(() -> Escrow.open(stale, 0, 8)).isInstanceOfSatisfying(EscrowUnavailableException.class,
                e -> assertThat(e.errno()).isEqualTo(Posix.ECONNREFUSED));
    }

    @Test
    void daemonErrorsAreTypedAndCarryErrnoAndText() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            assertThatThrownBy(() -> escrow.add(99, 0, new byte[1])).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                assertThat(e.errno()).isEqualTo(22);
                assertThat(e.rc()).isEqualTo(-22);
                assertThat(e.text()).isEqualTo("Wrong ADD request.");
                assertThat(e.getMessage()).contains("ADD 99/0").contains("EINVAL");
            });
            assertThatThrownBy(() -> escrow.tag(8)).isInstanceOfSatisfying(RequestRejectedException.class,
                    e -> assertThat(e.text()).isEqualTo("Wrong TAG request."));
            assertThatThrownBy(() -> escrow.get(0, 5)).isInstanceOfSatisfying(SlotNotFoundException.class,
                    e -> assertThat(e.text()).isEqualTo("Non-existent index in a GET request."));
            assertThat(escrow.tag(0).slots()).as("errors leave the session usable").isZero();
        }
    }

    @Test
    void valuesTheWireCannotCarryAreRefusedBeforeSending() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            assertThatThrownBy(() -> escrow.add(0, 0, new byte[32 * 1024 + 1])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> escrow.tag(70_000)).isInstanceOf(IllegalArgumentException.class);
            assertThat(escrow.tag(0).slots()).isZero();
        }
    }

    @Test
    void slotAccessorsSayWhatTheSlotHolds() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(1, 1, "p".getBytes());
            Slot slot = escrow.get(1, 1);
            assertThatThrownBy(slot::socketChannel).isInstanceOf(IllegalStateException.class).hasMessageContaining("none");
            assertThatThrownBy(slot::serverSocketChannel).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(slot::fileDescriptor).isInstanceOf(IllegalStateException.class);
        }
    }
}
