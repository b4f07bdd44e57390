package dev.fabric.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/tasks.md's tutorial, sections 1 to 3, command for command through the repository's
 * {@code ./fabric}, as a user types them: {@code up}, a pilot manager, a pilot of two agents, 1,000
 * tasks and their wait, a task's output, the lists, a cancel. {@code TasksIT} covers the kinds of task,
 * the faults and the bad input on a fabric started in-process; this one holds the tutorial to the
 * truth and the script's path to the pilot manager. With the AOT caches, as {@code up} makes them:
 * after {@code FabricUpAotCacheIT} in the same build they are made already (they live beside the jars).
 */
class TasksTutorialIT {

    private static final String ID = "[0-9a-f]{8}";

    @TempDir
    Path home;

    private FabricLauncher fabric;

    private record Ran(String out, String err) {
        List<String> lines() {
            return out.lines().filter(line -> !line.isBlank()).toList();
        }
    }

    @Test
    void theTutorialFromUpToAThousandTasksDoneAndACancel() throws Exception {
        FabricLauncher.assumeBuilt();
        fabric = new FabricLauncher(home, true);
        int[] ports = FabricLauncher.twoFreePorts();
        try {
            // 1. A fabric and a pilot manager.
            run("up", "--port", Integer.toString(ports[0]), "--spawner-port", Integer.toString(ports[1]));
            String manager = run("spawn", "pilot-manager", "--wait").lines().getFirst();
            assertThat(manager).matches("pilot-manager-" + ID);

            // 2. A pilot.
            String pilot = run("pilot", "submit", "--agents", "2", "--cores", "1", "--runtime", "1h", "--wait").lines().getFirst();
            assertThat(pilot).matches("pilot-" + ID);
            assertThat(run("pilot", "list").lines())
                    .anySatisfy(line -> assertThat(line.split("\\s+")).startsWith(pilot, "ACTIVE", "2", "1"));

            // 3. 1,000 tasks: their ids, one a line (the tutorial keeps them in ids.txt), then the wait.
            List<String> ids = run("task", "submit", pilot, "--count", "1000", "--time-limit", "1m", "--", "sh", "-c", "echo $$").lines();
            assertThat(ids).hasSize(1000).allSatisfy(id -> assertThat(id).matches("t-[0-9a-f]{16}"));
            assertThat(new HashSet<>(ids)).hasSize(1000);
            Ran waited = run("task", "wait");
            assertThat(waited.lines()).containsExactly("DONE 1000");
            // Not a terminal: plain progress lines on stderr, the last one all ended.
            assertThat(waited.err().lines().filter(line -> line.contains(" ended: ")).toList().getLast())
                    .startsWith("1000/1000 ended: done 1000, failed 0, ");

            // A task's output (the shell's process id), the list of failed tasks (none), a cancel.
            assertThat(run("task", "output", ids.getFirst()).out().strip()).matches("[0-9]+");
            assertThat(run("task", "list", pilot, "--state", "FAILED").lines()).noneMatch(line -> line.startsWith("t-"));
            String sleeper = run("task", "submit", pilot, "--", "sleep", "600").lines().getFirst();
            assertThat(sleeper).matches("t-[0-9a-f]{16}");
            // As tasks.md says: CANCELED when no agent held it yet (over at once), else the state its agent has it in.
            assertThat(run("task", "cancel", sleeper).lines()).singleElement().satisfies(line ->
                    assertThat(line).isIn(sleeper + " RUNNING", sleeper + " QUEUED", sleeper + " CANCELED"));
            assertThat(run("task", "wait", sleeper).lines()).containsExactly("CANCELED 1");
            assertThat(run("task", "list", "--state", "CANCELED").lines())
                    .anySatisfy(line -> assertThat(line.split("\\s+")).startsWith(sleeper, "CANCELED"));
        } finally {
            fabric.down();
        }
        // Everything the tutorial started, the pilot manager's own members too, ended with down.
        assertThat(fabric.processes()).as("processes of this fabric left after ./fabric down").isEmpty();
    }

    /** {@code ./fabric ARGUMENTS...}: it must end within minutes and succeed; its output. */
    private Ran run(String... arguments) throws Exception {
        Process process = fabric.command(arguments).start();
        boolean ended = process.waitFor(10, TimeUnit.MINUTES);
        String out = Files.readString(fabric.output(arguments[0]), StandardCharsets.UTF_8);
        String err = Files.readString(fabric.errors(arguments[0]), StandardCharsets.UTF_8);
        if (!ended) {
            process.destroyForcibly();
        }
        assertThat(ended).as("./fabric %s ended; so far:\n%s%s", String.join(" ", arguments), out, err).isTrue();
        assertThat(process.exitValue()).as("./fabric %s failed:\n%s%s", String.join(" ", arguments), out, err).isZero();
        return new Ran(out, err);
    }
}
