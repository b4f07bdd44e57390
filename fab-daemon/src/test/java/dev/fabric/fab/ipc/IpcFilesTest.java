package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The file operations that fabd and the root service run in directories a developer can write: a
 * tree removed while its owner swaps a directory for a link removes the link, never what it points
 * at; a file read for fabd is never read through a link; a replaced file is never written through a
 * link planted under its temporary name.
 */
class IpcFilesTest {
    /** Enough rounds that a path-by-path removal loses its race many times over. */
    private static final int ROUNDS = 100;

    @TempDir
    Path dir;

    @Test
    void removingATreeWhileItsOwnerSwapsADirectoryForALinkLeavesTheLinksTargetAlone() throws Exception {
        // The canary mirrors the tree below bp: a removal that follows the link finds the same names there.
        Path canary = dir.resolve("canary");
        List<Path> canaryFiles = List.of(canary.resolve("1/1/cmd"), canary.resolve("1/1/out"), canary.resolve("1/2/err"), canary.resolve("stages"));
        for (Path f : canaryFiles) {
            Files.createDirectories(f.getParent());
            Files.writeString(f, "keep");
        }
        Path pid = dir.resolve("pid/4242");
        Path bp = pid.resolve("bp");
        Path aside = pid.resolve("bp.real");
        for (int round = 0; round < ROUNDS; round++) {
            for (Path f : List.of(bp.resolve("1/1/cmd"), bp.resolve("1/1/out"), bp.resolve("1/2/err"), bp.resolve("stages"))) {
                Files.createDirectories(f.getParent());
                Files.writeString(f, "x");
            }
            AtomicBoolean stop = new AtomicBoolean();
            Thread swapper = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try {
                        Files.move(bp, aside, StandardCopyOption.ATOMIC_MOVE);
                        Files.createSymbolicLink(bp, canary);
                        Files.delete(bp);
                        Files.move(aside, bp, StandardCopyOption.ATOMIC_MOVE);
                    } catch (IOException e) {
                        // The removal got there first: try again until told to stop.
                    }
                }
            });
            try {
                IpcFiles.removeTree(pid);
            } catch (UncheckedIOException raced) {
                // Entries the swapper put back after their directory was emptied: the next round starts clean.
            } finally {
                stop.set(true);
                swapper.join();
            }
            for (Path f : canaryFiles) {
                assertThat(f).as("round " + round + ": the link's target").hasContent("keep");
            }
            IpcFiles.removeTree(pid);
            assertThat(pid).doesNotExist();
        }
    }

    @Test
    void removingATreeRemovesLinksInsideItNotTheirTargets() throws Exception {
        Path outside = Files.writeString(dir.resolve("outside"), "keep");
        Path outsideDir = Files.createDirectories(dir.resolve("outside-dir"));
        Files.writeString(outsideDir.resolve("f"), "keep");
        Path tree = Files.createDirectories(dir.resolve("tree/a/b"));
        Files.createSymbolicLink(tree.resolve("file-link"), outside);
        Files.createSymbolicLink(tree.resolve("dir-link"), outsideDir);

        IpcFiles.removeTree(dir.resolve("tree"));

        assertThat(dir.resolve("tree")).doesNotExist();
        assertThat(outside).hasContent("keep");
        assertThat(outsideDir.resolve("f")).hasContent("keep");
    }

    @Test
    void aFileReadForFabdIsNeverReadThroughALink() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "another developer's file");
        Path out = Files.createSymbolicLink(dir.resolve("out"), secret);

        assertThatThrownBy(() -> IpcFiles.readOwned(out, -1))
                .isInstanceOf(FabException.class)
                .hasMessageContaining("symbolic link")
                .hasMessageNotContaining("another developer's file")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.BADIPC);
    }

    @Test
    void aFileOfAnotherOwnerIsNotReadForFabd() throws Exception {
        Path exit = Files.writeString(dir.resolve("exit"), "data");
        int me = (int) Files.getAttribute(exit, "unix:uid");

        assertThat(IpcFiles.readOwned(exit, me)).isEqualTo("data".getBytes());
        assertThat(IpcFiles.readOwned(dir.resolve("missing"), me)).isNull();
        assertThatThrownBy(() -> IpcFiles.readOwned(exit, me + 1))
                .isInstanceOf(FabException.class)
                .hasMessageContaining("not a regular file of uid " + (me + 1));
    }

    @Test
    void aLinkPlantedUnderTheTemporaryNameIsNotWrittenThrough() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim"), "keep");
        Path args = dir.resolve("args");
        Files.createSymbolicLink(dir.resolve(".args." + ProcessHandle.current().pid() + ".tmp"), victim);

        IpcFiles.replace(args, "new".getBytes(), "rw-r--r--");

        assertThat(victim).hasContent("keep");
        assertThat(args).hasContent("new");
        assertThat(Files.isSymbolicLink(args)).isFalse();
        assertThat(Files.exists(dir.resolve(".args." + ProcessHandle.current().pid() + ".tmp"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    }
}
