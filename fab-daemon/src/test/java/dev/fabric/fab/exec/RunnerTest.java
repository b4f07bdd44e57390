package dev.fabric.fab.exec;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.Loader;
import dev.fabric.fab.graph.Graph;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.CyclePolicy;
import dev.fabric.fab.plan.Planner;
import dev.fabric.fab.plan.State;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RunnerTest {
    @TempDir
    Path dir;

    private final List<CommandResult> finished = new CopyOnWriteArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger maxRunning = new AtomicInteger();

    private List<CommandResult> run(String fabfile, int jobs) {
        write(dir, "fabfile", fabfile);
        Graph g = Graph.of(new Loader().load(dir.resolve("fabfile")));
        State state = State.load(dir);
        BuildPlan plan = new Planner(g, state, CyclePolicy.WARN, w -> { }).plan(g.defaultSelection(), false);
        return new Runner(dir, state, jobs, new Listener() {
            @Override
            public void started(int stage, int stages, int started, int total, Command command) {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            }

            @Override
            public void finished(CommandResult result) {
                running.decrementAndGet();
                finished.add(result);
            }
        }).run(plan);
    }

    @Test
    void capturesStdoutStderrStatusAndProducts() {
        List<CommandResult> results = run("[ out/x ] : [ ] { echo hello; echo oops >&2; touch $@ }", 1);
        CommandResult r = results.getFirst();
        assertThat(r.exitStatus()).isZero();
        assertThat(r.stdoutText()).isEqualTo("hello\n");
        assertThat(r.stderrText()).isEqualTo("oops\n");
        assertThat(r.products()).containsExactly("out/x");
        assertThat(dir.resolve("out/x")).exists();
    }

    @Test
    void runsUpToJobsCommandsOfAStageAtOnce() {
        String fabfile = """
                [ a ] : [ ] { sleep 1; touch a }
                [ b ] : [ ] { sleep 1; touch b }
                [ c ] : [ ] { sleep 1; touch c }
                """;
        long t0 = System.nanoTime();
        run(fabfile, 3);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(maxRunning.get()).isEqualTo(3);
        // One after the other would take 3 s.
        assertThat(ms).isLessThan(2_500);
    }

    @Test
    void oneJobRunsCommandsOneAtATime() {
        run("[ a ] : [ ] { touch a }\n[ b ] : [ ] { touch b }", 1);
        assertThat(maxRunning.get()).isEqualTo(1);
    }

    /** {@code bad} fails only once {@code slow} runs (a command not yet started when one fails is not started at all). */
    @Test
    void failureLetsRunningCommandsFinishRemovesTargetsAndStopsLaterStages() {
        String fabfile = """
                [ bad ] : [ ] { for i in $(seq 500); do [ -e started ] && break; sleep 0.01; done; echo partial > bad; echo 'it broke' >&2; exit 3 }
                [ slow ] : [ ] { touch started; sleep 0.3; touch slow }
                [ later ] : [ bad slow ] { touch later }
                """;
        assertThatThrownBy(() -> run(fabfile, 2))
                .isInstanceOf(FabException.class)
                .hasMessageContaining("command failed with exit status 3")
                .hasMessageContaining("echo partial > bad")
                .hasMessageContaining("it broke")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.CMDFAIL);
        assertThat(dir.resolve("bad")).doesNotExist();
        assertThat(dir.resolve("slow")).exists();
        assertThat(dir.resolve("later")).doesNotExist();
        assertThat(finished).hasSize(2);
    }

    @Test
    void abortKillsRunningCommandsAndRemovesTheirTargets() throws Exception {
        write(dir, "fabfile", """
                [ half ] : [ ] { echo partial > half; sleep 30; echo rest >> half }
                [ next ] : [ half ] { touch next }
                """);
        Graph g = Graph.of(new Loader().load(dir.resolve("fabfile")));
        State state = State.load(dir);
        BuildPlan plan = new Planner(g, state, CyclePolicy.WARN, w -> { }).plan(g.defaultSelection(), false);
        Runner runner = new Runner(dir, state, 2, new Listener() {
            @Override
            public void started(int stage, int stages, int started, int total, Command command) {
            }

            @Override
            public void finished(CommandResult result) {
            }
        });
        var outcome = new java.util.concurrent.CompletableFuture<Throwable>();
        Thread.ofVirtual().start(() -> {
            try {
                runner.run(plan);
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!java.nio.file.Files.exists(dir.resolve("half")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        runner.abort();
        // Within 10 s, where the killed command would have slept 30: the abort did not wait for it.
        Throwable t = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(t).isInstanceOf(FabException.class);
        assertThat(((FabException) t).status()).isEqualTo(ExitStatus.CMDFAIL);
        assertThat(dir.resolve("half")).doesNotExist();
        assertThat(dir.resolve("next")).doesNotExist();
    }
}
