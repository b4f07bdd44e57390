package dev.fabric.fab.cli;

import dev.fabric.fab.daemon.Daemons;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real bin/fab, stopped by SIGTERM mid-command: it exits 143, and faba, seeing its client gone,
 * kills the command and removes the half-written target.
 */
class InterruptIT {
    @TempDir
    Path dir;
    @TempDir
    Path roots;
    Daemons daemons;

    @AfterEach
    void stop() throws Exception {
        daemons.close();
    }

    @Test
    void terminatedFabKillsItsCommandAndLeavesNoHalfWrittenTarget() throws Exception {
        daemons = new Daemons(roots);
        Files.writeString(dir.resolve("fabfile"), "[ half ] : [ ] { echo partial > half; sleep 60; echo rest >> half }\n");
        Process process = daemons.fab(dir).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(dir.resolve("half")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(dir.resolve("half")).exists();
        List<ProcessHandle> command = ProcessHandle.of(daemons.fabaPid()).orElseThrow().descendants().toList();
        assertThat(command).isNotEmpty();

        process.destroy();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(143);
        for (ProcessHandle child : command) {
            child.onExit().get(30, TimeUnit.SECONDS);
            assertThat(child.isAlive()).isFalse();
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.exists(dir.resolve("half")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(dir.resolve("half")).doesNotExist();
    }
}
