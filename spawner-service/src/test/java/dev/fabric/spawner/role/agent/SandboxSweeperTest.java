package dev.fabric.spawner.role.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's sandbox retention over real directories: age from the last change, held tasks kept, links not followed. */
class SandboxSweeperTest {

    static final Instant NOW = Instant.parse("2030-01-01T12:00:00Z");

    @TempDir
    Path root;

    @TempDir
    Path outside;

    private Path sandbox(String task, Instant changed) throws Exception {
        Path sandbox = Files.createDirectories(root.resolve(task));
        Path out = Files.writeString(sandbox.resolve(task + ".out"), "output\n");
        Files.setLastModifiedTime(out, FileTime.from(changed));
        Files.setLastModifiedTime(sandbox, FileTime.from(changed));
        return sandbox;
    }

    @Test
    void aSandboxOlderThanTheRetentionGoesAndAYoungerOneStays() throws Exception {
        Path old = sandbox("t-old", NOW.minus(Duration.ofHours(25)));
        Files.createDirectories(old.resolve("work/deeper"));
        Files.setLastModifiedTime(old, FileTime.from(NOW.minus(Duration.ofHours(25))));
        Files.setLastModifiedTime(old.resolve("work"), FileTime.from(NOW.minus(Duration.ofHours(25))));
        Path young = sandbox("t-young", NOW.minus(Duration.ofHours(23)));

        SandboxSweeper.Sweep sweep = new SandboxSweeper(root, Duration.ofHours(24)).sweep(NOW, Set.of());

        assertThat(sweep.removed()).isEqualTo(1);
        assertThat(old).doesNotExist();
        assertThat(young).isDirectory();
        assertThat(sweep.due()).as("the young one's time").isEqualTo(NOW.plus(Duration.ofHours(1)));
    }

    @Test
    void theAgeCountsFromTheLastWriteToAnOutputFile() throws Exception {
        Path sandbox = sandbox("t-long", NOW.minus(Duration.ofHours(30)));
        Files.setLastModifiedTime(sandbox.resolve("t-long.out"), FileTime.from(NOW.minus(Duration.ofMinutes(5))));

        assertThat(new SandboxSweeper(root, Duration.ofHours(24)).sweep(NOW, Set.of()))
                .isEqualTo(new SandboxSweeper.Sweep(0, NOW.plus(Duration.ofHours(24)).minus(Duration.ofMinutes(5))));
        assertThat(sandbox).isDirectory();
    }

    @Test
    void theSandboxOfAHeldTaskStaysWhateverItsAge() throws Exception {
        Path held = sandbox("t-running", NOW.minus(Duration.ofDays(3)));

        // Due already: the task may end any time, and its sandbox then goes at the next interval.
        assertThat(new SandboxSweeper(root, Duration.ZERO).sweep(NOW, Set.of("t-running"))).isEqualTo(new SandboxSweeper.Sweep(0, NOW));
        assertThat(held).isDirectory();
    }

    @Test
    void aSymbolicLinkInASandboxIsRemovedNotFollowed() throws Exception {
        Path precious = Files.writeString(outside.resolve("precious"), "keep me\n");
        Path sandbox = sandbox("t-link", NOW.minus(Duration.ofHours(2)));
        Files.createSymbolicLink(sandbox.resolve("link"), outside);
        Files.setLastModifiedTime(sandbox, FileTime.from(NOW.minus(Duration.ofHours(2))));

        assertThat(new SandboxSweeper(root, Duration.ofHours(1)).sweep(NOW, Set.of()).removed()).isEqualTo(1);
        assertThat(sandbox).doesNotExist();
        assertThat(precious).hasContent("keep me\n");
    }

    @Test
    void noRootYetIsNothingToSweepUntilARetentionFromNow() {
        assertThat(new SandboxSweeper(root.resolve("not-yet"), Duration.ofHours(24)).sweep(NOW, Set.of()))
                .isEqualTo(new SandboxSweeper.Sweep(0, NOW.plus(Duration.ofHours(24))));
    }

    /** A node keeps a day's sandboxes: a sweep that reads all their times once a minute while none can be due is work for nothing. */
    @Test
    void theNextSweepIsDueWhenTheOldestSandboxKeptIsPastTheRetention() throws Exception {
        sandbox("t-older", NOW.minus(Duration.ofHours(20)));
        sandbox("t-newer", NOW.minus(Duration.ofMinutes(1)));
        SandboxSweeper sweeper = new SandboxSweeper(root, Duration.ofHours(24));

        assertThat(sweeper.sweep(NOW, Set.of())).isEqualTo(new SandboxSweeper.Sweep(0, NOW.plus(Duration.ofHours(4))));
        // Nothing goes before then: a sweep a second early removes nothing, the oldest goes once it is due.
        assertThat(sweeper.sweep(NOW.plus(Duration.ofHours(4)).minusSeconds(1), Set.of()).removed()).isZero();
        SandboxSweeper.Sweep due = sweeper.sweep(NOW.plus(Duration.ofHours(4)).plusSeconds(1), Set.of());
        assertThat(due.removed()).isEqualTo(1);
        assertThat(due.due()).isEqualTo(NOW.plus(Duration.ofHours(24)).minus(Duration.ofMinutes(1)));
        assertThat(root.resolve("t-older")).doesNotExist();
        assertThat(root.resolve("t-newer")).isDirectory();
    }

    @Test
    void sweepsComeOftenEnoughForTheRetentionButAtMostOnceASecond() {
        assertThat(new SandboxSweeper(root, Duration.ZERO).interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(new SandboxSweeper(root, Duration.ofSeconds(10)).interval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(new SandboxSweeper(root, Duration.ofHours(24)).interval()).isEqualTo(Duration.ofMinutes(1));
    }
}
