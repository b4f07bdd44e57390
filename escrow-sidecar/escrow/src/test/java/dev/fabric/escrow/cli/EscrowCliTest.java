package dev.fabric.escrow.cli;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The escrow CLI's operator commands against a real daemon. */
class EscrowCliTest {

    @TempDir
    Path dir;
    Escrowd escrowd;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream savedOut;
    PrintStream savedErr;

    @BeforeEach
    void start() throws Exception {
        escrowd = TestDaemon.start(dir);
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(1, 0, "abc".getBytes());
            escrow.add(1, 5, "de".getBytes());
        }
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        System.setOut(savedOut);
        System.setErr(savedErr);
        escrowd.close();
    }

    private int run(String... args) {
        return EscrowCli.commandLine().execute(args);
    }

    @Test
    void lsShowsTagsAndSlots() {
        assertThat(run("ls", "-l", escrowd.path().toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("holding 2 slots in 1 tag (2 payload-only), 5 payload bytes")
                .containsPattern("\\s+1\\s+2\\s+5\\s+0\\s+0\\s+0\\s+0\\s+2")
                .containsPattern("\\s+1\\s+5 none\\s+2\\s+-1");
    }

    @Test
    void tagAndDel() {
        assertThat(run("tag", escrowd.path().toString(), "1")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("tag 1: 2 slots, 5 payload bytes");
        assertThat(run("del", escrowd.path().toString(), "1", "5")).isZero();
        assertThat(run("del", escrowd.path().toString(), "1", "5")).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Non-existent index in DEL request.");
        assertThat(escrowd.stats().totalSlots()).isEqualTo(1);
    }

    @Test
    void tagGivesUpWhenAnotherSessionHoldsTheDaemon() throws Exception {
        try (Escrow holder = Escrow.open(escrowd.path(), 0, 8)) {
            holder.tag(0);
            assertThat(run("tag", "--wait", "1", escrowd.path().toString(), "1")).isEqualTo(1);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("serving another session");
        }
    }

    @Test
    void helpListsEverySubcommand() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("daemon", "echo-server", "echo-client", "ls", "tag", "del");
    }

    /**
     * picocli lists a command by the first line of its description alone: each first line is a whole
     * sentence, never one cut at a comma ("... on an HTTP port (8471),").
     */
    @Test
    void helpListsEachSubcommandWithAWholeSummaryLine() {
        assertThat(run("--help")).isZero();
        String commands = out.toString(StandardCharsets.UTF_8).split("Commands:\\R", 2)[1];
        // A summary may wrap; a line that starts a command at column 2 begins a new entry.
        List<String> summaries = List.of(commands.replaceAll("\\R\\s{4,}", " ").split("\\R"));
        assertThat(summaries).hasSizeGreaterThanOrEqualTo(8)
                .allSatisfy(summary -> assertThat(summary.strip()).as(summary).endsWith("."));
    }

    /** Issue 20 point 6: the daemon's help names the command a user types, not {@code escrow escrowd}. */
    @Test
    void daemonHelpNamesTheDaemonCommand() {
        assertThat(run("daemon", "--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: escrow daemon ").doesNotContain("escrow escrowd")
                .contains("--max-slots", "--max-payload-bytes", "--idle-timeout");
    }

    @Test
    void daemonRefusesLimitsThatCannotWork() {
        assertThat(run("daemon", "--max-slots", "0", dir.resolve("x.sock").toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--max-slots must be at least 1");
        assertThat(run("daemon", "--idle-timeout", "-1", dir.resolve("x.sock").toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--idle-timeout must be 0");
    }

    @Test
    void echoServerWithNoCreateFailsWhenNobodyListensInsteadOfStartingADaemon() {
        Path nobody = dir.resolve("nobody.sock");
        assertThat(run("echo-server", "--no-create", "--port", "0", nobody.toString())).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("nobody listens on " + nobody);
        assertThat(nobody).doesNotExist();
    }
}
