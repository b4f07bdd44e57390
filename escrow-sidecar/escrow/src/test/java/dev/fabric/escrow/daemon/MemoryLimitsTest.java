package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowFullException;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import dev.fabric.escrow.wire.Limits;
import dev.fabric.escrow.wire.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Issue 12 item 11: the daemon's memory is bounded. Before, the protocol alone let a client make it
 * hold 32 KiB x 2^20 indices x tags; now an ADD past {@code max-slots} or {@code max-payload-bytes}
 * answers {@code -28 "Escrow full: ..."} (ENOSPC, the C convention of a negated errno), stores
 * nothing, and the session and everything held go on.
 */
class MemoryLimitsTest {

    @TempDir
    Path dir;
    Escrowd escrowd;

    @AfterEach
    void stop() {
        if (escrowd != null) {
            escrowd.close();
        }
    }

    @Test
    void theDefaultLimitsRefuseTheAddThatWouldGoPastSixteenMebibytesOfPayload() throws Exception {
        escrowd = Escrowd.start(EscrowdConfig.of(dir.resolve("usock")));
        byte[] full = new byte[Limits.MAX_PAYLOAD];
        int fit = (int) (EscrowdConfig.DEFAULT_MAX_PAYLOAD_BYTES / Limits.MAX_PAYLOAD);
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 32)) {
            for (int idx = 0; idx < fit; idx++) {
                escrow.add(0, idx, full);
            }
            assertThatThrownBy(() -> escrow.add(0, fit, full))
                    .isInstanceOfSatisfying(EscrowFullException.class, e -> {
                        assertThat(e.rc()).isEqualTo(-28);
                        assertThat(e.text()).startsWith("Escrow full").contains("max-payload-bytes");
                    });
            assertThat(escrow.tag(0).slots()).isEqualTo(fit);
        }
        assertThat(escrowd.stats().totalSlots()).isEqualTo(fit);
        assertThat(escrowd.errors(Rejection.ESCROW_FULL)).isEqualTo(1);
    }

    @Test
    void anAddPastMaxSlotsAnswersEscrowFullAndKeepsEverythingHeld() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir).withMaxSlots(2));
        try (TcpPair held = TcpPair.open(); TcpPair refused = TcpPair.open(); RawClient client = RawClient.connect(escrowd.path())) {
            assertThat(client.request(new Message.Add(1, 0, 5, bytes("held")), Descriptors.of(held.accepted))).isEqualTo(Message.Rep.ok());
            assertThat(client.request(new Message.Add(1, 1, -1, bytes("b")))).isEqualTo(Message.Rep.ok());

            Message full = client.request(new Message.Add(1, 2, 6, bytes("c")), Descriptors.of(refused.accepted));
            assertThat(full).isInstanceOfSatisfying(Message.Rep.class, rep -> {
                assertThat(rep.rc()).isEqualTo(-Posix.ENOSPC);
                assertThat(rep.text()).startsWith("Escrow full").contains("2 slots").contains("max-slots");
            });

            assertThat(client.request(new Message.Add(1, 1, -1, bytes("replacing needs no new slot")))).isEqualTo(Message.Rep.ok());
            assertThat(client.request(new Message.Del(1, 1))).isEqualTo(Message.Rep.ok());
            assertThat(client.request(new Message.Add(1, 2, -1, bytes("room again")))).isEqualTo(Message.Rep.ok());
        }
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            assertThat(escrow.get(1, 0).payload()).asString(StandardCharsets.UTF_8).isEqualTo("held");
            assertThat(escrow.get(1, 2).payload()).asString(StandardCharsets.UTF_8).isEqualTo("room again");
        }
        assertThat(escrowd.stats().totalSlots()).isEqualTo(2);
        assertThat(escrowd.errors(Rejection.ESCROW_FULL)).isEqualTo(1);
    }

    @Test
    void anAddPastMaxPayloadBytesAnswersEscrowFullAndAReplacementCountsOnlyTheDifference() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir).withMaxPayloadBytes(10));
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(0, 0, bytes("123456"));
            assertThatThrownBy(() -> escrow.add(0, 1, bytes("12345")))
                    .isInstanceOfSatisfying(EscrowFullException.class, e -> assertThat(e.text()).contains("10 payload bytes"));
            escrow.add(0, 0, bytes("1234"));
            escrow.add(0, 1, bytes("12345"));
            assertThat(escrow.tag(0).totalBytes()).isEqualTo(9);
            assertThatThrownBy(() -> escrow.add(0, 2, bytes("12"))).isInstanceOf(EscrowFullException.class);
            escrow.add(0, 2, bytes("1"));
        }
        assertThat(escrowd.stats().totalSlots()).isEqualTo(3);
    }

    @Test
    void statsConnectionsThatSendNothingDoNotGrowAThreadEach() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir));
        List<AFUNIXSocket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                idle.add(AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(escrowd.config().statsPath())));
            }
            Thread.sleep(300);
            long statsThreads = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("escrowd-stats")).count();
            assertThat(statsThreads).isLessThanOrEqualTo(StatsServer.MAX_CONCURRENT);
        } finally {
            for (AFUNIXSocket socket : idle) {
                socket.close();
            }
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Escrow.stats(escrowd.path(), false).nrTags()).as("the stats view serves again").isEqualTo(8));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
