package dev.fabric.fab.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the state takes on trust while a watcher vouches for every change (fabd), and what it always
 * looks at. A file removed behind the state's back, with no {@link State#dirty} report, shows which
 * answers came from memory and which from the disk.
 */
class StateTest {
    @TempDir
    Path root;

    @Test
    void untrustedStateLooksAtTheDiskEveryTime() throws Exception {
        Files.writeString(root.resolve("out"), "x");
        State state = State.load(root);
        assertThat(state.exists("out")).isTrue();
        Files.delete(root.resolve("out"));
        assertThat(state.exists("out")).isFalse();
    }

    @Test
    void trustedStateTakesASeenFileAsThereUntilItsChangeIsReported() throws Exception {
        Files.createDirectories(root.resolve("build/d0"));
        Files.writeString(root.resolve("build/d0/a.o"), "x");
        State state = State.load(root);
        assertThat(state.exists("build/d0/a.o")).isTrue();
        state.trust(true);
        Files.delete(root.resolve("build/d0/a.o"));
        // No report yet: no stat either (a no-op of 10,000 targets is 10,000 stats less).
        assertThat(state.exists("build/d0/a.o")).isTrue();
        state.dirty("build/d0/a.o");
        assertThat(state.exists("build/d0/a.o")).isFalse();
    }

    @Test
    void aDirectoryReportedUnvouchesEverythingUnderIt() throws Exception {
        Files.createDirectories(root.resolve("build/d0"));
        Files.writeString(root.resolve("build/d0/a.o"), "x");
        State state = State.load(root);
        state.exists("build/d0/a.o");
        state.trust(true);
        Files.delete(root.resolve("build/d0/a.o"));
        // inotify names only the directory when it is renamed or removed.
        state.dirty("build");
        assertThat(state.exists("build/d0/a.o")).isFalse();
    }

    @Test
    void trustWithdrawnForgetsWhatWasSeen() throws Exception {
        Files.writeString(root.resolve("out"), "x");
        State state = State.load(root);
        state.exists("out");
        state.trust(true);
        Files.delete(root.resolve("out"));
        state.trust(false);
        assertThat(state.exists("out")).isFalse();
    }

    @Test
    void linksAndUnwatchedDirectoriesAreNeverTakenOnTrust() throws Exception {
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/HEAD"), "one");
        Files.writeString(root.resolve("target"), "x");
        Files.createSymbolicLink(root.resolve("link"), Path.of("target"));
        State state = State.load(root);
        String head = state.hash(".git/HEAD");
        assertThat(state.exists("link")).isTrue();
        state.trust(true);
        // The watcher skips .git and reports an edit of a link's target under the target's name only.
        Files.writeString(root.resolve(".git/HEAD"), "two, longer");
        Files.delete(root.resolve("target"));
        assertThat(state.hash(".git/HEAD")).isNotEqualTo(head);
        assertThat(state.exists("link")).isFalse();
    }
}
