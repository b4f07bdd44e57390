package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.posix.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code /tmp/fab-<uid>} fallback, with a shared directory of the test's own standing for
 * {@code /tmp} and defaults that cannot be used: made 0700 by its owner on a first run; one another
 * user planted (theirs, a link, or writable by others) is BADIPC, exit 3.
 */
class IpcRootsTest {
    @TempDir
    Path sharedTmp;

    private Path unusable() {
        return sharedTmp.resolve("no-such-parent/fab");
    }

    private IpcRoots resolve() {
        return IpcRoots.resolve(null, null, Map.of(), unusable(), unusable(), sharedTmp);
    }

    private Path mine() {
        return sharedTmp.resolve("fab-" + Libc.getuid());
    }

    @Test
    void aFirstRunOnACleanTmpMakesAPrivateDirectoryAndLaysTheProjectOut() throws Exception {
        IpcRoots roots = resolve();

        assertThat(roots.ipc()).isEqualTo(mine().resolve("run"));
        assertThat(roots.tmp()).isEqualTo(mine().resolve("tmp"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(mine()))).isEqualTo("rwx------");
        // What the client does next on a first run: neither may fail for want of /tmp/fab-<uid>.
        Path fabfile = Files.writeString(sharedTmp.resolve("fabfile"), "[ a ] : [ ] { touch a }\n");
        IpcDirectory project = IpcDirectory.of(roots, fabfile).createPrivate(fabfile);
        TmpDirectory.prepare(roots.tmp(), "rwx------", message -> { });
        assertThat(project.fabdDir()).isDirectory();
        assertThat(roots.tmp().resolve("pid")).isDirectory();
        // And the next run finds it as it left it.
        assertThat(resolve()).isEqualTo(roots);
    }

    @Test
    void aDirectoryWritableByOthersIsBadipc() throws Exception {
        Files.createDirectory(mine());
        Files.setPosixFilePermissions(mine(), PosixFilePermissions.fromString("rwxrwxrwx"));

        assertBadipc("writable by others");
    }

    @Test
    void aLinkIsBadipc() throws Exception {
        Path planted = Files.createDirectory(sharedTmp.resolve("planted"));
        Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(mine(), planted);

        assertBadipc("symbolic link");
    }

    @Test
    void aDirectoryOfAnotherUserIsBadipc() throws Exception {
        assumeTrue(Libc.geteuid() == 0, "giving a directory to another user needs root");
        Files.createDirectories(mine().resolve("run"));
        Files.setPosixFilePermissions(mine(), PosixFilePermissions.fromString("rwx------"));
        // What another user would plant: the system service's socket, which fab would then talk to.
        Files.writeString(mine().resolve("run").resolve(SystemSocket.NAME), "");
        Files.setAttribute(mine(), "unix:uid", 65534);

        assertBadipc("owned by uid 65534");
    }

    @Test
    void aServiceSocketThatIsNotRootsIsBadipcNotTalkedTo() throws Exception {
        assumeTrue(Libc.geteuid() == 0, "giving a file to another user needs root");
        IpcRoots roots = new IpcRoots(Files.createDirectory(sharedTmp.resolve("run")), sharedTmp.resolve("tmp"));
        assertThat(SystemSocket.present(roots)).isFalse();
        Path socket = Files.writeString(roots.ipc().resolve(SystemSocket.NAME), "");
        Files.setAttribute(socket, "unix:uid", 65534);

        assertThatThrownBy(() -> SystemSocket.present(roots))
                .isInstanceOf(FabException.class)
                .hasMessageContaining("belongs to uid 65534, not to root")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.BADIPC);
    }

    private void assertBadipc(String why) {
        assertThatThrownBy(this::resolve)
                .isInstanceOf(FabException.class)
                .hasMessageContaining(mine().toString())
                .hasMessageContaining(why)
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.BADIPC);
        assertThat(ExitStatus.BADIPC.code()).isEqualTo(3);
    }
}
