package dev.fabric.fab.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The four real processes on one project: the signal flow of docs/fab.md, the directories, the daemons kept between commands, -B. */
class DaemonFlowIT {
    @TempDir
    Path dir;
    Path project;
    Daemons daemons;


    @BeforeEach
    void setUp() throws IOException {
        project = Files.createDirectories(dir.resolve("project"));
        daemons = new Daemons(dir);
        Files.writeString(project.resolve("fabfile"), """
                [ out/a ] : [ in ] { cat in > $@; echo built >> $@ }
                [ @all ] : [ out/a ]
                """);
        Files.writeString(project.resolve("in"), "x\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        daemons.close();
    }

    Daemons.Run fab(String... args) throws Exception {
        return daemons.run(project, args);
    }

    @Test
    void ipcLogShowsTheSignalFlowAndTheDaemonsStay() throws Exception {
        Daemons.Run first = fab("+IPC");
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("x\nbuilt\n");
        assertThat(first.out()).contains("fab -> faba", "START (SIGUSR1)", "faba -> fabd", "fabd <- START",
                "fabd -> faba", "BPSTART (SIGWINCH)", "faba -> fabd", "BPGOOD (SIGURG)", "DONE (SIGUSR2)", "faba -> fab");

        Path ipc = daemons.project();
        for (String f : new String[] {"fabd/pgid", "fabd/exit", "fabd/lock", "fab/pid", "fab/lock", "logs", "args"}) {
            assertThat(ipc.resolve(f)).isRegularFile();
        }
        for (String l : new String[] {"fab/cwd", "fab/out", "fab/err", "dsc", "bp", "fabfile"}) {
            assertThat(ipc.resolve(l)).isSymbolicLink();
        }
        assertThat(Files.readSymbolicLink(ipc.resolve("fabfile"))).isEqualTo(project.resolve("fabfile").toRealPath());
        assertThat(Files.readSymbolicLink(ipc.resolve("dsc"))).isEqualTo(daemons.tmpRoot.resolve("pid/" + daemons.fabdPid() + "/dsc"));
        Path faba = daemons.tmpRoot.resolve("pid/" + daemons.fabaPid());
        assertThat(faba.resolve("bp/1/1/cmd")).isRegularFile();
        assertThat(faba.resolve("bp/1/1/exit")).isRegularFile();
        assertThat(faba.resolve("bp/stages")).isRegularFile();
        assertThat(faba.resolve("stamp")).isRegularFile();
        assertThat(Files.getPosixFilePermissions(ipc)).hasToString("[OWNER_READ, OWNER_WRITE, OWNER_EXECUTE]");
        // The same fabd answers the next command, from the graph it kept.
        int fabd = daemons.fabdPid();
        Daemons.Run second = fab("+IPC");
        assertThat(second.status()).isZero();
        assertThat(second.out()).contains("nothing to do");
        assertThat(second.out()).contains("graph kept in memory");
        assertThat(daemons.fabdPid()).isEqualTo(fabd);
    }

    @Test
    void formulasRunWithTheEnvironmentAndUmaskOfTheFabThatAskedAndNotTheDaemons() throws Exception {
        Files.writeString(project.resolve("fabfile"), """
                [ @env ] : [ ] { echo "FOO=${FOO-unset} FAB_PARENT_PID=${FAB_PARENT_PID-unset} umask=$(umask)" > env.txt }
                """);
        Daemons.Run first = fabWith("first", "0022");
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(Files.readString(project.resolve("env.txt"))).isEqualTo("FOO=first FAB_PARENT_PID=unset umask=0022\n");
        // The same daemons, another fab: its environment and umask, as make would run the recipe with.
        Daemons.Run second = fabWith("second", "0077");
        assertThat(second.status()).as(second.err()).isZero();
        assertThat(Files.readString(project.resolve("env.txt"))).isEqualTo("FOO=second FAB_PARENT_PID=unset umask=0077\n");

        // The environment may hold secrets: only the developer reads it (args, which fabd reads, does not carry it).
        Path env = daemons.project().resolve("fab/env");
        assertThat(env).isRegularFile();
        assertThat(Files.getPosixFilePermissions(env, java.nio.file.LinkOption.NOFOLLOW_LINKS)).hasToString("[OWNER_READ, OWNER_WRITE]");
        assertThat(Files.getOwner(env, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName()).isEqualTo(System.getProperty("user.name"));
        assertThat(Files.readString(daemons.project().resolve("args"), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("second");
    }

    /** fab with {@code FOO} set to {@code foo} and the umask {@code umask}. */
    private Daemons.Run fabWith(String foo, String umask) throws Exception {
        ProcessBuilder pb = daemons.fab(project);
        List<String> fab = pb.command();
        pb.command(new java.util.ArrayList<>(List.of("/bin/sh", "-c", "umask " + umask + " && exec \"$0\" \"$@\"")));
        pb.command().addAll(fab);
        pb.environment().put("FOO", foo);
        Path out = dir.resolve("env.out");
        Path err = dir.resolve("env.err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Daemons.Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void failedCommandExitsSevenWithItsStderr() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ bad ] : [ ] { echo oops >&2; exit 3 }\n");
        Daemons.Run r = fab();
        assertThat(r.status()).isEqualTo(7);
        assertThat(r.err()).contains("exit status 3", "oops");
    }

    @Test
    void failedCommandShowsItsStdoutThroughTheDaemons() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ @t ] : [ ] { echo ASSERTION FAILED; exit 1 }\n");
        Daemons.Run r = fab();
        assertThat(r.status()).isEqualTo(7);
        assertThat(r.err()).contains("stdout:\nASSERTION FAILED", "(no stderr)");
    }

    @Test
    void restartOptionStartsAFreshFabd() throws Exception {
        assertThat(fab().status()).isZero();
        int before = daemons.fabdPid();
        Daemons.Run r = fab("-B");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(daemons.fabdPid()).isNotEqualTo(before);
        assertThat(ProcessHandle.of(before)).isEmpty();
    }

    @Test
    void syntaxErrorsAndBadArgumentsKeepTheirStatuses() throws Exception {
        assertThat(fab("-j", "-5").status()).isEqualTo(1);
        Files.writeString(project.resolve("fabfile"), "[ a ] : [ \n");
        assertThat(fab().status()).isEqualTo(4);
    }

    @Test
    void buildscriptIsWrittenByFabaIntoTheClientsDirectory() throws Exception {
        Daemons.Run r = fab("-k", "build.sh");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(project.resolve("build.sh")).isExecutable();
        assertThat(Files.readString(project.resolve("build.sh"))).contains("cat in > out/a");
    }

    @Test
    void savedSourceIsRebuiltAndAnEditedFabfileReExecutesFabd() throws Exception {
        assertThat(fab().status()).isZero();
        Files.writeString(project.resolve("in"), "y\n");
        Daemons.Run changed = fab();
        assertThat(changed.status()).as(changed.err()).isZero();
        assertThat(changed.out()).contains("out/a");
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("y\nbuilt\n");

        int before = daemons.fabdPid();
        Files.writeString(project.resolve("fabfile"), """
                [ out/a ] : [ in ] { cat in > $@; echo rebuilt >> $@ }
                [ @all ] : [ out/a ]
                """);
        Daemons.Run edited = fab();
        assertThat(edited.status()).as(edited.err()).isZero();
        // faba's changes file keeps only what fabd has not read: the edit of in went once fabd answered the command after it.
        String changes = Files.readString(daemons.tmpRoot.resolve("pid/" + daemons.fabaPid() + "/changes"));
        assertThat(changes).startsWith("B ").doesNotStartWith("B 0\0").doesNotContain(project.resolve("in") + "\0");
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("y\nrebuilt\n");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (daemons.fabdPid() == before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(daemons.fabdPid()).isNotEqualTo(before);
        // The re-executed fabd answers, under the same fabw.
        assertThat(fab().status()).isZero();
    }

    @Test
    void shutdownStopsAllFourProcessesAndTheNextFabStartsFresh() throws Exception {
        assertThat(fab().status()).isZero();
        int fabd = daemons.fabdPid();
        int faba = daemons.fabaPid();
        long fabdWatcher = Daemons.parentOf(fabd);
        long fabaWatcher = Daemons.parentOf(faba);

        Daemons.Run r = fab("--shutdown");

        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("stopped the daemons of", "fabd " + fabd, "faba " + faba);
        for (long pid : new long[] {fabd, faba, fabdWatcher, fabaWatcher}) {
            Daemons.awaitDeath(pid);
            assertThat(ProcessHandle.of(pid)).as("pid " + pid).isEmpty();
        }
        Files.writeString(project.resolve("in"), "y\n");
        Daemons.Run next = fab();
        assertThat(next.status()).as(next.err()).isZero();
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("y\nbuilt\n");
        assertThat(daemons.fabdPid()).isNotEqualTo(fabd);
        assertThat(daemons.fabaPid()).isNotEqualTo(faba);
    }

    @Test
    void shutdownWithNothingRunningSaysSoAndExitsZero() throws Exception {
        Daemons.Run never = fab("--shutdown");
        assertThat(never.status()).as(never.err()).isZero();
        assertThat(never.out()).contains("no daemons running");

        assertThat(fab().status()).isZero();
        assertThat(fab("--shutdown").status()).isZero();
        Daemons.Run again = fab("--shutdown");
        assertThat(again.status()).as(again.err()).isZero();
        assertThat(again.out()).contains("no daemons running");
    }

    @Test
    void idleDaemonsExitAfterTheIdleTimeAndTheNextFabStartsFresh() throws Exception {
        ProcessBuilder pb = daemons.fab(project).redirectOutput(dir.resolve("idle.out").toFile()).redirectError(dir.resolve("idle.err").toFile());
        pb.environment().put("FAB_IDLE_TIMEOUT", "2s");
        Process first = pb.start();
        assertThat(first.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String firstErr = Files.readString(dir.resolve("idle.err"));
        assertThat(first.exitValue()).as(firstErr).isZero();
        int fabd = daemons.fabdPid();
        int faba = daemons.fabaPid();
        long fabdWatcher = Daemons.parentOf(fabd);
        long fabaWatcher = Daemons.parentOf(faba);

        for (long pid : new long[] {fabd, faba, fabdWatcher, fabaWatcher}) {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> ProcessHandle.of(pid).isEmpty());
        }
        assertThat(Files.readString(daemons.project().resolve("logs"))).contains("no command for 2s (FAB_IDLE_TIMEOUT): stopping");
        Files.writeString(project.resolve("in"), "z\n");
        Daemons.Run next = fab();
        assertThat(next.status()).as(next.err()).isZero();
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("z\nbuilt\n");
        assertThat(daemons.fabdPid()).isNotEqualTo(fabd);
    }

    @Test
    void badIdleTimeExitsOneBeforeStartingAnyDaemon() throws Exception {
        ProcessBuilder pb = daemons.fab(project).redirectOutput(dir.resolve("bad.out").toFile()).redirectError(dir.resolve("bad.err").toFile());
        pb.environment().put("FAB_IDLE_TIMEOUT", "soon");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(Files.readString(dir.resolve("bad.err"))).contains("FAB_IDLE_TIMEOUT=soon");
        assertThat(daemons.ipcRoot).doesNotExist();
    }

    @Test
    void listDaemonsShowsTheProjectWithPidsAndMemoryThenNothingAfterShutdown() throws Exception {
        Daemons.Run none = fab("--list-daemons");
        assertThat(none.status()).as(none.err()).isZero();
        assertThat(none.out()).contains("no daemons running");
        assertThat(fab().status()).isZero();

        Daemons.Run list = fab("--list-daemons");

        assertThat(list.status()).as(list.err()).isZero();
        assertThat(list.out()).contains(project.resolve("fabfile").toRealPath().toString(), "fabd " + daemons.fabdPid() + " up ",
                "faba " + daemons.fabaPid() + " up ", " MiB resident");
        assertThat(fab("--shutdown").status()).isZero();
        assertThat(fab("--list-daemons").out()).contains("no daemons running");
    }
}
