package dev.fabric.fab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Two real bin/fab processes on one project: the second waits for the first, then finds nothing to do. */
class ConcurrentFabIT {
    @TempDir
    Path dir;

    @Test
    void secondFabWaitsForTheFirstAndSeesItsWork() throws Exception {
        Path fab = Path.of(System.getProperty("fab.dist", "target/fab-dist")).resolve("bin/fab");
        Files.writeString(dir.resolve("fabfile"), "[ slow ] : [ ] { sleep 2; echo once >> runs; touch slow }\n");
        Process first = start(fab, "first");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(dir.resolve(".fab/lock")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(300);
        Process second = start(fab, "second");
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        assertThat(second.exitValue()).isZero();
        assertThat(Files.readString(dir.resolve("second.out")))
                .contains("waiting for another fab building this project", "nothing to do");
        assertThat(Files.readAllLines(dir.resolve("runs"))).containsExactly("once");
    }

    private Process start(Path fab, String name) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(fab.toString()).directory(dir.toFile())
                .redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile());
        if (System.getenv("JAVA_HOME") == null) {
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        }
        return pb.start();
    }
}
