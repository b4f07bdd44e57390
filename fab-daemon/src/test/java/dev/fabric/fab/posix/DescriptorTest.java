package dev.fabric.fab.posix;

import dev.fabric.posix.PosixException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The calls root and fabsys use in directories a developer can write: none follows a link, and modes
 * are set on what was opened. A link planted where a file or directory belongs (a developer's
 * {@code fab/lock}, a racing {@code logs}) is ELOOP, and its target keeps its mode.
 */
class DescriptorTest {
    @TempDir
    Path dir;

    @Test
    void aFileIsCreatedExclusivelyAndItsModeSetThroughItsDescriptor() {
        try (Descriptor d = Descriptor.openDirectory(dir); Descriptor f = d.file("logs", 0600)) {
            f.chmod(0660);
            assertThat(f.stat().isRegularFile()).isTrue();
            assertThat(f.stat().permissions()).isEqualTo(0660);
        }
        try (Descriptor d = Descriptor.openDirectory(dir); Descriptor again = d.file("logs", 0600)) {
            assertThat(again.stat().permissions()).as("an existing file is opened, not created again").isEqualTo(0660);
        }
    }

    @Test
    void aLinkWhereAFileBelongsIsNeitherFollowedNorCreatedThrough() throws Exception {
        Path canary = Files.writeString(dir.resolve("canary"), "keep");
        Files.setPosixFilePermissions(canary, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(dir.resolve("lock"), canary);
        Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("created-through-the-link"));

        try (Descriptor d = Descriptor.openDirectory(dir)) {
            assertThatThrownBy(() -> d.file("lock", 0600)).isInstanceOf(PosixException.class)
                    .satisfies(e -> assertThat(((PosixException) e).errno()).isEqualTo(Descriptor.ELOOP));
            assertThatThrownBy(() -> d.file("dangling", 0600)).isInstanceOf(PosixException.class);
            assertThat(d.stat("lock").orElseThrow().isSymbolicLink()).isTrue();
            // What root does with such a link: removes it, never its target.
            d.unlink("lock", false);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(canary))).isEqualTo("rw-r--r--");
        assertThat(canary).hasContent("keep");
        assertThat(dir.resolve("created-through-the-link")).doesNotExist();
        assertThat(dir.resolve("lock")).doesNotExist();
    }

    @Test
    void aLinkWhereADirectoryBelongsIsNotOpened() throws Exception {
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Files.createSymbolicLink(dir.resolve("fab"), elsewhere);

        try (Descriptor d = Descriptor.openDirectory(dir)) {
            assertThatThrownBy(() -> d.directory("fab")).isInstanceOf(PosixException.class);
            d.makeDirectory("fabd", 0700);
            try (Descriptor fabd = d.directory("fabd")) {
                // Setgid and sticky, which java.nio's permission sets cannot express.
                fabd.chmod(03770);
                assertThat(fabd.stat().isDirectory()).isTrue();
                assertThat(fabd.stat().permissions()).isEqualTo(03770);
            }
        }
        assertThatThrownBy(() -> Descriptor.openDirectory(dir.resolve("fab"))).isInstanceOf(PosixException.class);
    }

    @Test
    void readGivesTheBytesOfARegularFileAndWhatItIs() throws Exception {
        Path file = Files.writeString(dir.resolve("out"), "x".repeat(100_000));
        Files.createSymbolicLink(dir.resolve("link"), file);

        Descriptor.Contents c = Descriptor.read(file);

        assertThat(c.bytes()).hasSize(100_000);
        assertThat(c.stat().uid()).isEqualTo((int) Files.getAttribute(file, "unix:uid"));
        assertThatThrownBy(() -> Descriptor.read(dir.resolve("link"))).isInstanceOf(PosixException.class)
                .satisfies(e -> assertThat(((PosixException) e).errno()).isEqualTo(Descriptor.ELOOP));
    }
}
