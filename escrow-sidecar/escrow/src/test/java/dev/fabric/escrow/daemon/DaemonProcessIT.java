package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.Dist;
import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** escrowd as a process: daemonizing, SIGTERM, CREAT auto-start, one daemon per path. */
class DaemonProcessIT {

    @TempDir
    Path dir;
    Dist dist;
    long daemonPid = -1;

    @BeforeEach
    void setUp() {
        dist = new Dist(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemonPid > 0) {
            ProcessHandle.of(daemonPid).ifPresent(ProcessHandle::destroyForcibly);
        }
        dist.close();
        System.clearProperty("escrow.daemon.log");
    }

    @Test
    void daemonizedEscrowdDetachesAndReportsWhatItHoldsOnSigterm() throws Exception {
        Path socket = dir.resolve("usock");
        Dist.Started launcher = dist.start("daemon", "-d", "-t", "4", socket.toString());
        assertThat(launcher.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(launcher.process().exitValue()).as(launcher.output()).isZero();
        assertThat(launcher.output()).contains("serving " + socket + " in the background");

        EscrowStats stats = Escrow.stats(socket, false);
        daemonPid = stats.pid();
        assertThat(daemonPid).isNotEqualTo(launcher.process().pid());
        assertThat(stats.nrTags()).isEqualTo(4);
        String[] stat = Files.readString(Path.of("/proc", Long.toString(daemonPid), "stat")).split("\\) ")[1].split(" ");
        assertThat(stat[3]).as("session id: the daemon leads its own session").isEqualTo(Long.toString(daemonPid));

        try (TcpPair tcp = TcpPair.open(); Escrow escrow = Escrow.open(socket, 0, 0)) {
            escrow.add(1, 0, tcp.accepted, "abc".getBytes(StandardCharsets.UTF_8));
            escrow.add(2, 0, "de".getBytes(StandardCharsets.UTF_8));
        }

        ProcessHandle handle = ProcessHandle.of(daemonPid).orElseThrow();
        handle.destroy(); // SIGTERM
        handle.onExit().get(30, TimeUnit.SECONDS);
        assertThat(launcher.output())
                .contains("escrowd: shutting down; refusing new sessions on " + socket)
                .contains("escrowd: still holding 2 slots in 2 tags (1 socket, 1 payload-only), 5 payload bytes");
        assertThat(socket).doesNotExist();
    }

    @Test
    void creatStartsADaemonWhenNobodyListens() throws Exception {
        Path socket = dir.resolve("usock");
        Path log = dir.resolve("escrowd.log");
        System.setProperty("escrow.daemon.log", log.toString());
        try (Escrow escrow = Escrow.open(socket, Escrow.CREAT, 3)) {
            escrow.add(2, 9, "auto".getBytes(StandardCharsets.UTF_8));
            assertThat(escrow.get(2, 9).payload()).asString(StandardCharsets.UTF_8).isEqualTo("auto");
        }
        EscrowStats stats = Escrow.stats(socket, false);
        daemonPid = stats.pid();
        assertThat(daemonPid).isNotEqualTo(ProcessHandle.current().pid());
        assertThat(stats.nrTags()).isEqualTo(3);
        assertThat(Files.readString(log)).contains("Listening on \"" + socket + "\"");

        try (Escrow again = Escrow.open(socket, Escrow.CREAT, 3)) {
            assertThat(again.tag(2).slots()).as("the running daemon is used, not a second one").isEqualTo(1);
        }
        assertThat(Escrow.stats(socket, false).pid()).isEqualTo(daemonPid);
    }

    @Test
    void secondDaemonOnAPathExitsWithStatusThree() throws Exception {
        Path socket = dir.resolve("usock");
        Dist.Started first = dist.start("daemon", socket.toString());
        first.awaitOutput("Listening on", Duration.ofSeconds(30));
        Dist.Started second = dist.start("daemon", "-f", socket.toString());
        assertThat(second.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(second.process().exitValue()).isEqualTo(3);
        assertThat(second.output()).contains("another escrowd serves " + socket);
        await().atMost(Duration.ofSeconds(5)).until(() -> Escrow.stats(socket, false).pid() == first.process().pid());
    }
}
