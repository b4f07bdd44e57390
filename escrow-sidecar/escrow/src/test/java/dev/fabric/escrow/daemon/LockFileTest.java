package dev.fabric.escrow.daemon;

import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 12 item 11: {@code <path>.lock} is opened and made private without following a symbolic
 * link. Before, a link planted beside the socket (in a shared directory) made escrowd create,
 * chmod 0600 and lock whatever file it named.
 */
class LockFileTest {

    @TempDir
    Path dir;

    @Test
    void aLockPathThatIsASymlinkIsRefusedAndItsTargetKeepsItsModeAndContent() throws Exception {
        Path canary = Files.writeString(dir.resolve("someone-elses-file"), "canary");
        Files.setPosixFilePermissions(canary, PosixFilePermissions.fromString("rw-r--r--"));
        EscrowdConfig config = TestDaemon.config(dir);
        Files.createSymbolicLink(config.lockPath(), canary);

        assertThatThrownBy(() -> Escrowd.start(config)).isInstanceOf(IOException.class)
                .hasMessageContaining(config.lockPath() + " is a symbolic link").hasMessageContaining("remove it");

        assertThat(Files.getPosixFilePermissions(canary)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Files.readString(canary)).isEqualTo("canary");
        assertThat(config.path()).as("nothing bound").doesNotExist();
    }

    @Test
    void aDanglingLockSymlinkCreatesNothingWhereItPoints() throws Exception {
        Path elsewhere = dir.resolve("elsewhere");
        EscrowdConfig config = TestDaemon.config(dir);
        Files.createSymbolicLink(config.lockPath(), elsewhere);

        assertThatThrownBy(() -> Escrowd.start(config)).isInstanceOf(IOException.class).hasMessageContaining("symbolic link");
        assertThat(elsewhere).doesNotExist();
    }

    @Test
    void anExistingLockFileIsReusedAndMadePrivate() throws Exception {
        EscrowdConfig config = TestDaemon.config(dir);
        Files.writeString(config.lockPath(), "");
        Files.setPosixFilePermissions(config.lockPath(), PosixFilePermissions.fromString("rw-rw-rw-"));
        try (Escrowd escrowd = Escrowd.start(config)) {
            assertThat(escrowd.isAccepting()).isTrue();
            assertThat(Files.isRegularFile(config.lockPath(), LinkOption.NOFOLLOW_LINKS)).isTrue();
            assertThat(Files.getPosixFilePermissions(config.lockPath())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        }
    }
}
