package dev.fabric.fab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The real bin/fab, stopped by SIGTERM mid-command: the command dies with it, its target is removed. */
class InterruptIT {
    @TempDir
    Path dir;

    @Test
    void terminatedFabKillsItsCommandAndLeavesNoHalfWrittenTarget() throws Exception {
        Path fab = Path.of(System.getProperty("fab.dist", "target/fab-dist")).resolve("bin/fab");
        Files.writeString(dir.resolve("fabfile"), "[ half ] : [ ] { echo partial > half; sleep 60; echo rest >> half }\n");
        ProcessBuilder pb = new ProcessBuilder(fab.toString()).directory(dir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
        if (System.getenv("JAVA_HOME") == null) {
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        }
        Process process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(dir.resolve("half")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(dir.resolve("half")).exists();
        List<ProcessHandle> children = process.descendants().toList();
        assertThat(children).isNotEmpty();

        process.destroy();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(143);
        assertThat(dir.resolve("half")).doesNotExist();
        for (ProcessHandle child : children) {
            child.onExit().get(5, TimeUnit.SECONDS);
            assertThat(child.isAlive()).isFalse();
        }
    }
}
