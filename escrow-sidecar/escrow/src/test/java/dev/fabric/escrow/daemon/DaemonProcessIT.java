package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowUnavailableException;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.Dist;
import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
        assertThat(launcher.output()).contains("serving " + socket + " in the background").contains("output in " + socket + ".log");
        Path log = dir.resolve("usock.log");

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
        assertThat(log).as("the daemon's output goes to PATH.log, not the caller's").isRegularFile();
        assertThat(Files.getPosixFilePermissions(log)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(log)).contains("Listening on \"" + socket + "\"")
                .contains("escrowd: shutting down; refusing new sessions on " + socket)
                .contains("escrowd: still holding 2 slots in 2 tags (1 socket, 1 payload-only), 5 payload bytes");
        assertThat(socket).doesNotExist();
    }

    /**
     * Issue 20 points 4 and 5: {@code pid=$(escrow daemon -d PATH)} returns (the daemon keeps none of
     * the caller's output open) with the daemon's pid alone on stdout, and the JVM options of
     * {@code ESCROW_JAVA_OPTS} reach the daemon's JVM.
     */
    @Test
    void daemonizedEscrowdLetsACapturingCallerReturnWithItsPidAndKeepsTheJavaOptions() throws Exception {
        Path socket = dir.resolve("usock");
        Process launcher = dist.startCaptured(Map.of("ESCROW_JAVA_OPTS", "-Descrow.it.marker=issue-20 -Xss1m"),
                "daemon", "-d", socket.toString());
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> readAll(launcher.getInputStream()));
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(launcher.getErrorStream()));
        String captured = stdout.get(60, TimeUnit.SECONDS);
        assertThat(launcher.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(launcher.exitValue()).as(stderr.get(10, TimeUnit.SECONDS)).isZero();

        daemonPid = Escrow.stats(socket, false).pid();
        assertThat(captured).as("stdout is the pid line").isEqualTo(daemonPid + "\n");
        assertThat(stderr.get(10, TimeUnit.SECONDS)).contains("serving " + socket + " in the background (pid " + daemonPid + ")");
        String cmdline = Files.readString(Path.of("/proc", Long.toString(daemonPid), "cmdline")).replace('\0', ' ');
        assertThat(cmdline).contains("-Descrow.it.marker=issue-20").contains("-Xss1m");
    }

    @Test
    void aDaemonLogThatIsASymlinkIsRefused() throws Exception {
        Path socket = dir.resolve("usock");
        Path canary = Files.writeString(dir.resolve("canary"), "canary");
        Files.createSymbolicLink(dir.resolve("usock.log"), canary);
        Dist.Started launcher = dist.start("daemon", "-d", socket.toString());
        assertThat(launcher.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(launcher.process().exitValue()).isEqualTo(1);
        assertThat(launcher.output()).contains("usock.log is a symbolic link");
        assertThat(Files.readString(canary)).isEqualTo("canary");
        assertThat(socket).doesNotExist();
    }

    /**
     * Issue 12 item 11 with real processes and a real SIGSTOP: an echo server that holds the session
     * is stopped; once it has been silent for the idle timeout, the next client gets the session
     * and finds the stopped server's listener in the escrow.
     */
    @Test
    void aStoppedProcessHoldingTheSessionLosesItOnceAnotherClientWaits() throws Exception {
        Path socket = dir.resolve("usock");
        Dist.Started daemon = dist.start("daemon", "-t", "2", "--idle-timeout", "1", socket.toString());
        daemon.awaitOutput("Listening on", Duration.ofSeconds(30));
        Dist.Started server = dist.start("echo-server", "--no-create", "--port", Integer.toString(Dist.freePort()), socket.toString());
        server.awaitOutput("recovered 0 clients", Duration.ofSeconds(30));

        new ProcessBuilder("kill", "-STOP", Long.toString(server.process().pid())).start().waitFor();
        try (Escrow next = Escrow.open(socket, 0, 2, Duration.ofSeconds(30))) {
            assertThat(next.get(0, 0).serverSocketChannel().isOpen()).as("the stopped server's listener, held").isTrue();
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(server.process().pid())).start().waitFor();
        }
        daemon.awaitOutput("silent for PT1S while another client waits", Duration.ofSeconds(10));
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    /**
     * A daemon CREAT starts that exits with an error said why on its output: the client's error points
     * there, and does not guess at a stale socket (here the lock is a planted link; nothing is at PATH).
     */
    @Test
    void creatWhoseDaemonExitsSaysWhereTheDaemonSaidWhy() throws Exception {
        Path socket = dir.resolve("usock");
        Path log = dir.resolve("escrowd.log");
        Files.createSymbolicLink(dir.resolve("usock.lock"), Files.writeString(dir.resolve("canary"), "canary"));
        System.setProperty("escrow.daemon.log", log.toString());

        assertThatThrownBy(() -> Escrow.open(socket, Escrow.CREAT, 3)).isInstanceOf(EscrowUnavailableException.class)
                .hasMessageContaining("escrowd started for " + socket + " exited with status 1")
                .hasMessageContaining("its output is in " + log).hasMessageNotContaining("stale");
        assertThat(Files.readString(log)).contains("usock.lock is a symbolic link");
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
