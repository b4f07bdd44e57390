package dev.fabric.fab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Two real bin/fab processes on one project: the second waits on fab/lock for the first, then finds nothing to do. */
class ConcurrentFabIT {
    @TempDir
    Path dir;
    @TempDir
    Path roots;
    dev.fabric.fab.daemon.Daemons daemons;

    @org.junit.jupiter.api.BeforeEach
    void roots() {
        daemons = new dev.fabric.fab.daemon.Daemons(roots);
    }

    @org.junit.jupiter.api.AfterEach
    void stopDaemons() throws Exception {
        daemons.close();
    }

    @Test
    void secondFabWaitsForTheFirstAndSeesItsWork() throws Exception {
        Files.writeString(dir.resolve("fabfile"), "[ slow ] : [ ] { touch started; sleep 2; echo once >> runs; touch slow }\n");
        Process first = start("first");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        // The first holds fab/lock of the project's IPC directory once its command runs.
        while (!Files.exists(dir.resolve("started")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Process second = start("second");
        assertThat(first.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        assertThat(second.exitValue()).isZero();
        assertThat(Files.readString(dir.resolve("second.out")))
                .contains("waiting for another fab building this project", "nothing to do");
        assertThat(Files.readAllLines(dir.resolve("runs"))).containsExactly("once");
    }

    private Process start(String name) throws Exception {
        return daemons.fab(dir).redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile()).start();
    }
}
