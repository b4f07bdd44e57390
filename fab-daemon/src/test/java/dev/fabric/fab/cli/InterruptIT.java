package dev.fabric.fab.cli;

import dev.fabric.fab.daemon.Daemons;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real bin/fab, stopped by SIGTERM mid-command: it exits 143, and faba, seeing its client gone,
 * kills the command and removes the half-written target. Stopped in a stage of several commands and
 * followed at once by the next fab, the dead build ends there: the rest of its stage and its later
 * stages never start, and the next fab builds.
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

    /**
     * The next fab follows the killed one at once, as from a shell: its START reaches faba before faba's
     * periodic look at the dead client would (every 200 ms), while the dead build's first stage still has
     * commands to start. That build must end there, not go on with its stage and hand fabd a second stage
     * that no one runs (every later fab then waited for it). Three rounds, Ctrl-C and kill -9, since
     * which of the two comes first is a matter of timing.
     */
    @Test
    void fabKilledInAStageOfSeveralCommandsEndsItsBuildAndTheNextFabBuildsAtOnce() throws Exception {
        daemons = new Daemons(roots);
        Path ready = roots.resolve("ready");
        Path starts = roots.resolve("starts");
        Files.createDirectories(dir.resolve("src"));
        // Each command notes its start and says it runs, then takes long enough to be killed mid-way.
        Files.writeString(dir.resolve("fabfile"), "[ out/%.o ] : [ src/%.c ] { echo $@ >> '" + starts + "'; echo partial > $@; touch '"
                + ready + "'; sleep 3; cat $< > $@ }\n[ app ] : [ src/%.c -> out/%.o ] { cat $^ > $@ }\n");
        Files.writeString(starts, "");
        for (String signal : List.of("INT", "KILL", "INT")) {
            for (String name : List.of("x", "y", "z")) {
                Files.writeString(dir.resolve("src/" + name + ".c"), name + " " + signal + " " + System.nanoTime() + "\n");
            }
            Files.deleteIfExists(ready);
            long before = Files.readAllLines(starts).size();
            Process killed = daemons.fab(dir, "-j", "1").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(ready) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(ready).as("the first command of the stage started").exists();
            assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(killed.pid())).start().waitFor()).isZero();
            assertThat(killed.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(killed.exitValue()).isEqualTo(signal.equals("INT") ? 130 : 137);

            Path out = roots.resolve("next.out");
            Path err = roots.resolve("next.err");
            Process next = daemons.fab(dir, "-j", "3").redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!next.waitFor(60, TimeUnit.SECONDS)) {
                next.destroyForcibly();
            }
            assertThat(next.isAlive() ? -1 : next.exitValue()).as("the fab after a killed one (SIG%s) ends and builds; it printed:%n%s%s",
                    signal, Files.readString(out), Files.readString(err)).isZero();
            String sources = Stream.of("x", "y", "z").map(n -> read(dir.resolve("src/" + n + ".c"))).collect(Collectors.joining());
            assertThat(dir.resolve("app")).hasContent(sources);
            // One command of the dead build had started (-j 1), then the next fab's three: none of the dead stage after the kill.
            assertThat(Files.readAllLines(starts).size() - before).as("commands started since the round began").isEqualTo(4);
        }
        Daemons.Run noop = daemons.run(dir);
        assertThat(noop.status()).as(noop.err()).isZero();
        assertThat(Files.readAllLines(starts)).hasSize(12);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
