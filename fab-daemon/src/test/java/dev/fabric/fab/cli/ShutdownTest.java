package dev.fabric.fab.cli;

import dev.fabric.fab.posix.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** {@code fab --shutdown} where no daemon is started: nothing running, and the credential model's refusal. */
class ShutdownTest {
    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
    }

    Result shutdown(Path project) throws Exception {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Map<String, String> env = Map.of("FAB_IPC_DIR", dir.resolve("ipc").toString(), "FAB_TMP_DIR", dir.resolve("tmp").toString());
        int status = Client.run(new String[] {"--shutdown"}, project, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Path project() throws Exception {
        Path project = Files.createDirectories(dir.resolve("project"));
        Files.writeString(project.resolve("fabfile"), "[ a ] : [ ] { touch $@ }\n");
        return project;
    }

    @Test
    void nothingRunningExitsZeroSayingSoAndCreatesNothing() throws Exception {
        Result r = shutdown(project());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("fab: no daemons running for " + dir.resolve("project/fabfile").toRealPath());
        assertThat(dir.resolve("ipc")).doesNotExist();
    }

    @Test
    void withoutAFabfileExitsNineAsABuildWould() throws Exception {
        Result r = shutdown(Files.createDirectories(dir.resolve("empty")));
        assertThat(r.status()).isEqualTo(9);
        assertThat(r.err()).contains("no fabfile at");
    }

    @Test
    void underTheSystemServiceIsRefusedWithFabpermsSayingWhoMayStopThem() throws Exception {
        // A root-owned system.sock is what makes the credential model in force; only root can plant one.
        assumeThat(Libc.getuid()).isZero();
        Path project = project();
        Files.createDirectories(dir.resolve("ipc"));
        Files.createFile(dir.resolve("ipc/system.sock"));
        Result r = shutdown(project);
        assertThat(r.status()).isEqualTo(15);
        assertThat(r.err()).contains("--shutdown", "system service");
    }
}
