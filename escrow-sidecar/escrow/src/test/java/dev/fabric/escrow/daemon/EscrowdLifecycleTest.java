package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowUnavailableException;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Binding, stale sockets, one daemon per path, the stats socket and the graceful shutdown. */
class EscrowdLifecycleTest {

    @TempDir
    Path dir;

    @Test
    void socketFilesAreOwnerOnly() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(escrowd.path()))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(escrowd.config().statsPath()))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(escrowd.config().lockPath()))).isEqualTo("rw-------");
        }
    }

    @Test
    void staleSocketFileNeedsForce() throws Exception {
        Path path = TestDaemon.config(dir).path();
        AFUNIXServerSocket dead = AFUNIXServerSocket.newInstance();
        dead.setDeleteOnClose(false);
        dead.bind(AFUNIXSocketAddress.of(path));
        dead.close();
        assertThat(path).exists();

        assertThatThrownBy(() -> TestDaemon.start(dir)).isInstanceOf(StaleSocketException.class)
                .hasMessage(path + " exists and nobody listens on it (a stale socket of an escrowd that died?)");
        try (Escrowd _ = Escrowd.start(TestDaemon.config(dir).withForce(true)); Escrow escrow = Escrow.open(path, 0, 8)) {
            assertThat(escrow.tag(0).slots()).isZero();
        }
    }

    @Test
    void secondDaemonOnTheSamePathIsRefusedEvenWithForce() throws Exception {
        try (Escrowd first = TestDaemon.start(dir)) {
            assertThatThrownBy(() -> Escrowd.start(TestDaemon.config(dir).withForce(true))).isInstanceOf(AlreadyServingException.class);
            try (Escrow escrow = Escrow.open(first.path(), 0, 8)) {
                assertThat(escrow.tag(0).slots()).as("the first one is untouched").isZero();
            }
        }
    }

    @Test
    void pathLongerThanSunPathIsRefused() {
        Path longPath = dir.resolve("x".repeat(120));
        assertThatThrownBy(() -> Escrowd.start(EscrowdConfig.of(longPath))).isInstanceOf(IOException.class).hasMessageContaining("too long");
    }

    @Test
    void statsAreServedWhileAServiceHoldsTheSession() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); Escrow holder = Escrow.open(escrowd.path(), 0, 8)) {
            holder.add(2, 3, "x".getBytes());
            EscrowStats stats = Escrow.stats(escrowd.path(), true);
            assertThat(stats.sessionActive()).isTrue();
            assertThat(stats.pid()).isEqualTo(ProcessHandle.current().pid());
            assertThat(stats.nrTags()).isEqualTo(8);
            assertThat(stats.slots()).containsExactly(new EscrowStats.SlotInfo(2, 3, DescriptorKind.NONE, 1, -1));
        }
    }

    @Test
    void statsSocketAnswersARequestOtherThanStatsOrSlotsWithAnErrorLine() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir)) {
            assertThat(askStats(escrowd, "FOO\n")).isEqualTo("error: unknown request \"FOO\"; send STATS or SLOTS\n");
            assertThat(askStats(escrowd, "\n")).isEqualTo("error: unknown request \"\"; send STATS or SLOTS\n");
            assertThat(askStats(escrowd, "STATS\n")).startsWith("escrowd-stats 1\n").doesNotContain("\nslot ");
            assertThat(askStats(escrowd, "slots\r\n")).as("as before: case and a CR do not matter").startsWith("escrowd-stats 1\n");
        }
    }

    private static String askStats(Escrowd escrowd, String request) throws IOException {
        try (AFUNIXSocket socket = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(escrowd.config().statsPath()))) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void gracefulShutdownRefusesNewSessionsAndReportsWhatItHolds() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withShutdownGrace(Duration.ofSeconds(10)));
            Escrow holder = Escrow.open(escrowd.path(), 0, 8);
            holder.add(0, 0, tcp.listener, null);
            holder.add(1, 0, tcp.accepted, "abc".getBytes());
            holder.add(1, 1, "de".getBytes());
            tcp.accepted.close();

            CompletableFuture<EscrowStats> report = CompletableFuture.supplyAsync(escrowd::shutdown);
            Thread.sleep(200);
            assertThat(report).as("waits for the current session").isNotDone();
            assertThat(escrowd.isServing()).isFalse();
            assertThat(escrowd.path()).doesNotExist();
            assertThatThrownBy(() -> Escrow.open(escrowd.path(), 0, 8)).isInstanceOf(EscrowUnavailableException.class);
            assertThat(holder.tag(1).slots()).as("the current session may finish its work").isEqualTo(2);
            holder.close();

            EscrowStats held = report.get(5, TimeUnit.SECONDS);
            assertThat(held.state()).isEqualTo(EscrowStats.State.STOPPED);
            assertThat(held.totalSlots()).isEqualTo(3);
            assertThat(held.count(DescriptorKind.SERVER_SOCKET)).isEqualTo(1);
            assertThat(held.count(DescriptorKind.SOCKET)).isEqualTo(1);
            assertThat(held.count(DescriptorKind.NONE)).isEqualTo(1);
            assertThat(held.summary()).isEqualTo("3 slots in 2 tags (1 socket, 1 server_socket, 1 payload-only), 5 payload bytes");
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofMillis(200))).as("shutdown keeps what it holds").isFalse();

            escrowd.close();
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofSeconds(2))).as("close releases it").isTrue();
        }
    }

    @Test
    void shutdownCutsASessionThatOutstaysTheGrace() throws Exception {
        Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withShutdownGrace(Duration.ofMillis(200)));
        try (Escrow holder = Escrow.open(escrowd.path(), 0, 8)) {
            holder.tag(0);
            long start = System.nanoTime();
            escrowd.shutdown();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            assertThatThrownBy(() -> holder.tag(0)).isInstanceOf(IOException.class);
        } finally {
            escrowd.close();
        }
    }

    @Test
    void shutdownLeavesASocketFileThatIsNoLongerOurs() throws Exception {
        Escrowd escrowd = TestDaemon.start(dir);
        Files.delete(escrowd.path());
        AFUNIXServerSocket replacement = AFUNIXServerSocket.newInstance();
        replacement.setDeleteOnClose(false);
        replacement.bind(AFUNIXSocketAddress.of(escrowd.path()));
        escrowd.close();
        assertThat(escrowd.path()).as("someone else's socket stays").exists();
        replacement.close();
    }
}
