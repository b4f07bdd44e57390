package dev.fabric.fab.posix;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ProcessTree#kill}: nothing a command started outlives it, even when the command forks while
 * it is being killed (listing the descendants and then killing them left whatever the shell forked in
 * between: a {@code sleep 30} holding the output pipe, and RunnerTest's abort waited for it).
 */
class ProcessTreeTest {
    /** A sleep length no other process on the machine uses, so its processes can be found by command line. */
    private final String marker = "%d.%03d".formatted(900 + ThreadLocalRandom.current().nextInt(99), ThreadLocalRandom.current().nextInt(1000));

    @AfterEach
    void killStragglers() {
        survivors().forEach(ProcessHandle::destroyForcibly);
    }

    @RepeatedTest(5)
    void aShellStillForkingLeavesNothingBehind() throws Exception {
        Process shell = new ProcessBuilder("/bin/sh", "-c", "i=0; while [ $i -lt 400 ]; do sleep " + marker + " & i=$((i+1)); done; wait")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (survivors().size() < 20 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(survivors()).as("the shell is forking sleeps").hasSizeGreaterThanOrEqualTo(20);

        ProcessTree.kill(shell.toHandle());

        assertThat(shell.waitFor(5, TimeUnit.SECONDS)).isTrue();
        // SIGKILL is delivered asynchronously; what it reached is gone in moments, an escapee would sleep on.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!survivors().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(survivors()).as("sleeps the shell forked while it was being killed").isEmpty();
    }

    @Test
    void aCommandThatAlreadyEndedIsNoError() throws Exception {
        Process done = new ProcessBuilder("/bin/true").start();
        done.waitFor();
        ProcessTree.kill(done.toHandle());
        assertThat(done.exitValue()).isZero();
    }

    @Test
    void theStateLetterIsReadPastACommandNameWithSpacesAndParentheses() {
        assertThat(ProcessTree.stateLetter("4242 (my (odd) cmd) T 1 4242 4242 0 -1")).isEqualTo('T');
        assertThat(ProcessTree.stateLetter("4242 (sleep) S 1")).isEqualTo('S');
        assertThat(ProcessTree.stateLetter("")).as("unreadable").isEqualTo((char) 0);
    }

    private List<ProcessHandle> survivors() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> a.length == 1 && a[0].equals(marker)).orElse(false))
                                .toList();
    }
}
