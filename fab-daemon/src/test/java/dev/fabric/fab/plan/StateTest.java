package dev.fabric.fab.plan;

import dev.fabric.fab.graph.Formula;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    @Test
    void theClockSeparatesWhatWasWrittenBeforeItFromWhatIsWrittenAfter() throws Exception {
        // In the same kernel tick, most of the time: a file written just before the clock is not "changed while running".
        Path clock = root.resolve(".fab/clock");
        Path source = root.resolve("src.c");
        for (int i = 0; i < 200; i++) {
            Files.writeString(source, "before " + i);
            long started = State.clock(clock);
            assertThat(ctime(source)).isLessThan(started);
            Files.writeString(source, "after " + i);
            assertThat(ctime(source)).isGreaterThanOrEqualTo(started);
        }
    }

    @Test
    void aSourceChangedAfterTheCommandStartedIsRecordedAsChanged() throws Exception {
        Files.writeString(root.resolve("fabfile"), "");
        Files.writeString(root.resolve("kept.c"), "k");
        Files.writeString(root.resolve("saved.c"), "1");
        State state = State.load(root);
        Formula formula = new Formula(List.of("out"), List.of("kept.c", "saved.c"), "cc", root, "fabfile:1", null);
        long started = State.clock(root.resolve(".fab/clock"));
        Files.writeString(root.resolve("saved.c"), "2");
        state.recordSuccess(formula, List.of("kept.c", "saved.c"), started);
        assertThat(state.built(formula).sources()).containsEntry("kept.c", state.hash("kept.c"))
                .containsEntry("saved.c", State.CHANGED_WHILE_RUNNING);
    }

    private static long ctime(Path p) throws Exception {
        return ((FileTime) Files.getAttribute(p, "unix:ctime")).to(TimeUnit.NANOSECONDS);
    }
}
