package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 20 point 3: a connection's state can be updated in the escrow without closing the
 * connection. A payload-only ADD replaces the whole slot and closes the daemon's copy;
 * {@link Escrow#updatePayload} keeps the descriptor.
 */
class UpdatePayloadTest {

    @TempDir
    Path dir;
    Escrowd escrowd;

    @BeforeEach
    void start() throws Exception {
        escrowd = TestDaemon.start(dir);
    }

    @AfterEach
    void stop() {
        escrowd.close();
    }

    @Test
    void updatePayloadKeepsTheConnectionOpenAndItsDescriptorNumber() throws Exception {
        try (TcpPair tcp = TcpPair.open(); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(1, 0, tcp.accepted, bytes("position 1"));
            int ufd = escrow.get(1, 0).ufd();
            tcp.accepted.close(); // the service's own copy: only the escrow holds the connection now

            escrow.updatePayload(1, 0, bytes("position 2"));

            assertThat(TcpPair.seesEof(tcp.client, Duration.ofMillis(300))).as("the peer still connected").isFalse();
            Slot slot = escrow.get(1, 0);
            assertThat(slot.payload()).asString(StandardCharsets.UTF_8).isEqualTo("position 2");
            assertThat(slot.ufd()).as("the sender's descriptor number stays as it was added").isEqualTo(ufd);
            TcpPair.assertTalks(tcp.client, slot.socketChannel(), "still there");
            TcpPair.assertTalks(slot.socketChannel(), tcp.client, "both ways");
            slot.socketChannel().close();
        }
        assertThat(escrowd.stats().count(dev.fabric.escrow.descriptor.DescriptorKind.SOCKET)).isEqualTo(1);
    }

    @Test
    void aPayloadOnlyAddOnASocketSlotClosesTheConnectionWhichIsWhyUpdatePayloadExists() throws Exception {
        try (TcpPair tcp = TcpPair.open(); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(1, 0, tcp.accepted, bytes("position 1"));
            tcp.accepted.close();

            escrow.add(1, 0, bytes("position 2"));

            assertThat(TcpPair.seesEof(tcp.client, Duration.ofSeconds(5))).as("the daemon closed the last copy").isTrue();
            assertThat(escrow.get(1, 0).hasDescriptor()).isFalse();
        }
    }

    @Test
    void updatePayloadOfAPayloadOnlySlotReplacesThePayload() throws Exception {
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(2, 3, bytes("v1"));
            escrow.updatePayload(2, 3, bytes("v2"));
            assertThat(escrow.get(2, 3).payload()).asString(StandardCharsets.UTF_8).isEqualTo("v2");
        }
    }

    @Test
    void updatePayloadOfAnEmptySlotSaysSoAndStoresNothing() throws Exception {
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            assertThatThrownBy(() -> escrow.updatePayload(2, 4, bytes("v"))).isInstanceOf(SlotNotFoundException.class);
            assertThat(escrow.tag(2).slots()).isZero();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
