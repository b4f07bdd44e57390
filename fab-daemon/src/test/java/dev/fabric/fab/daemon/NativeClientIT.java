package dev.fabric.fab.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The native client ({@code bin/fab}, src/main/c) against the Java one ({@code bin/fab-jvm}) on the same
 * running daemons: the native client serves the common path itself and hands the rest to the Java
 * client, and either way a user sees the same output and exit status.
 */
class NativeClientIT {
    private static final String HANDED_OVER = "the native client hands this command to the Java client";

    @TempDir
    Path dir;
    Path project;
    Daemons nativeClient;
    Daemons jvmClient;

    @BeforeEach
    void setUp() throws IOException {
        project = Files.createDirectories(dir.resolve("project"));
        nativeClient = new Daemons(dir, "native");
        jvmClient = new Daemons(dir, "jvm");
        Files.writeString(project.resolve("fabfile"), """
                [ out/a ] : [ in ] { cat in > $@; echo built >> $@ }
                [ bad ] : [ ] { echo oops >&2; exit 3 }
                [ @all ] : [ out/a ]
                """);
        Files.writeString(project.resolve("in"), "x\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        nativeClient.close();
    }

    @Test
    void theCommonPathIsNativeAndTheRestIsTheJavaClients() throws Exception {
        Daemons.Run first = nativeClient.run(project, "+IPC");
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out()).as("no daemons yet: the Java client starts them").contains(HANDED_OVER, "fabd ", " is up");
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("x\nbuilt\n");

        Daemons.Run noop = nativeClient.run(project, "+IPC");
        assertThat(noop.status()).as(noop.err()).isZero();
        assertThat(noop.out()).doesNotContain(HANDED_OVER)
                .contains("fab: holds ", "fab: fab -> faba ", "START (SIGUSR1)", "fab: fab <- DONE (SIGUSR2)", "nothing to do");

        Files.writeString(project.resolve("in"), "y\n");
        Daemons.Run change = nativeClient.run(project, "+IPC");
        assertThat(change.status()).as(change.err()).isZero();
        assertThat(change.out()).doesNotContain(HANDED_OVER).contains("out/a");
        assertThat(Files.readString(project.resolve("out/a"))).isEqualTo("y\nbuilt\n");

        // The watchers are the native fabw, not JVMs: one user, no credentials to hand over.
        for (int daemon : new int[] {nativeClient.fabdPid(), nativeClient.fabaPid()}) {
            Path exe = Files.readSymbolicLink(Path.of("/proc/" + Daemons.parentOf(daemon) + "/exe"));
            assertThat(exe.getFileName()).as("the fabw of %d", daemon).hasToString("fabw");
        }

        int fabd = nativeClient.fabdPid();
        Daemons.Run restart = nativeClient.run(project, "-B", "+IPC");
        assertThat(restart.status()).as(restart.err()).isZero();
        assertThat(restart.out()).contains(HANDED_OVER);
        assertThat(nativeClient.fabdPid()).isNotEqualTo(fabd);

        Daemons.Run shutdown = nativeClient.run(project, "--shutdown");
        assertThat(shutdown.status()).isZero();
        assertThat(shutdown.out()).contains("fab: stopped the daemons of ");
    }

    /**
     * fabd writes {@code fabd/exit} before faba installs {@code .fab/state} and the {@code -k}
     * buildscript and rings DONE: a client that ended on the exit file alone (its 100 ms check falling
     * between the two) returned before the buildscript was there, and its log lacked "fab <- DONE".
     */
    @Test
    void bothClientsEndOnlyOnceFabaRangDoneWithTheBuildscriptInstalled() throws Exception {
        assertThat(nativeClient.run(project).status()).isZero();
        for (int i = 0; i < 40; i++) {
            Daemons client = i % 4 == 3 ? jvmClient : nativeClient;
            String script = "build-" + i + ".sh";
            Daemons.Run run = client.run(project, "+IPC", "-k", script);
            assertThat(run.status()).as(run.err()).isZero();
            assertThat(project.resolve(script)).as("run %d: installed before the client ended", i).isRegularFile();
            assertThat(run.out()).as("run %d", i).contains("fab: fab <- DONE (SIGUSR2)");
        }
    }

    @Test
    void bothClientsPrintTheSameAndExitWithTheSameStatus() throws Exception {
        assertThat(nativeClient.run(project).status()).isZero();
        List<List<String>> commands = List.of(
                List.of(),                       // nothing to do
                List.of("-p", "-j", "1"),        // the plan, native
                List.of("bad"),                  // CMDFAIL 7, the command's stderr and fabd's error
                List.of("-ERROR", "bad"),        // the same, ERROR switched off
                List.of("nosuch"),               // NOSELECT 12
                List.of("+q", "$!"),             // a query
                List.of("-v", "x=1", "+i", "out/a"),
                List.of("--nonsense"),           // BADARGS 1, handed over
                List.of("-j", "-5"),             // BADARGS 1, handed over
                List.of("+NOSUCH"),              // BADARGS 1, handed over
                List.of("-f", "missing"));       // NOINVOKE 9, handed over
        for (List<String> args : commands) {
            String[] argv = args.toArray(String[]::new);
            Daemons.Run jvm = jvmClient.run(project, argv);
            Daemons.Run fast = nativeClient.run(project, argv);
            assertThat(fast).as("fab " + args).isEqualTo(jvm);
        }
        assertThat(nativeClient.run(project, "bad").status()).isEqualTo(7);
        assertThat(nativeClient.run(project, "--nonsense").status()).isEqualTo(1);
    }

    @Test
    void filesTheNativeClientWritesArePrivateAndNoTemporaryIsLeft() throws Exception {
        assertThat(nativeClient.run(project).status()).isZero();
        Daemons.Run noop = nativeClient.run(project, "+IPC");
        assertThat(noop.out()).doesNotContain(HANDED_OVER);
        Path ipc = nativeClient.project();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ipc.resolve("fab/pid")))).isEqualTo("rw-r--r--");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ipc.resolve("args")))).isEqualTo("rw-r--r--");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ipc))).isEqualTo("rwx------");
        assertThat(Files.readSymbolicLink(ipc.resolve("fab/cwd"))).isEqualTo(project.toRealPath());
        try (Stream<Path> s = Stream.concat(Files.list(ipc), Files.list(ipc.resolve("fab")))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void aDaemonThatDiesWhileTheNativeClientWaitsEndsItWithFabdfail() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ slow ] : [ ] { sleep 30; touch slow }\n");
        assertThat(nativeClient.run(project, "-p").status()).isZero();
        Process p = nativeClient.fab(project, "slow").redirectErrorStream(true).start();
        Path ipc = nativeClient.project();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                .until(() -> Files.exists(ipc.resolve("fab/pid")) && Files.readString(ipc.resolve("fab/pid")).trim().equals(Long.toString(p.pid())));
        int fabd = nativeClient.fabdPid();
        ProcessHandle.of(fabd).orElseThrow().destroyForcibly();
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(14);
        assertThat(new String(p.getInputStream().readAllBytes())).contains("fabd (pid " + fabd + ") ended abnormally");
    }
}
