package dev.fabric.fab.plan;

import dev.fabric.fab.FabException;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Listener;
import dev.fabric.fab.exec.Runner;
import dev.fabric.fab.fabfile.Loader;
import dev.fabric.fab.graph.Graph;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * fabd's plan decided from what changed since the last one (a no-op of 10,000 files walks no graph):
 * one state and one graph kept between plans, as fabd keeps them, and the watcher played by
 * {@link State#dirty}. After every step the plan must equal a cold plan (a fresh state read from
 * {@code .fab/state}, every file looked at); each test is a way the shortcut could miss a change.
 */
class IncrementalPlanTest {
    private static final String CHAIN = PlannerTest.CHAIN;

    @TempDir
    Path dir;
    /** Where a linked source lives, outside the project. */
    @TempDir
    Path outside;

    private Graph graph;
    private State state;
    private boolean decidedFromChanges;

    @BeforeEach
    void chain() {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        load();
    }

    private void load() {
        graph = Graph.of(new Loader().load(dir.resolve("fabfile")));
        state = State.load(dir);
        // fabd trusts its state once a command has looked at the files while the watcher runs.
        state.trust(true);
    }

    private BuildPlan plan() {
        Planner planner = new Planner(graph, state, CyclePolicy.WARN, w -> { });
        BuildPlan p = planner.plan(graph.defaultSelection(), false);
        decidedFromChanges = planner.decidedFromChanges();
        assertThat(targets(p)).as("the kept state's plan against a cold one").isEqualTo(targets(coldPlan()));
        return p;
    }

    private BuildPlan coldPlan() {
        Graph g = Graph.of(new Loader().load(dir.resolve("fabfile")));
        return new Planner(g, State.load(dir), CyclePolicy.WARN, w -> { }).plan(g.defaultSelection(), false);
    }

    /** Runs a plan as fabd does, then reports what its commands wrote, as the watcher does. */
    private void run(BuildPlan p) {
        try {
            new Runner(dir, state, 1, new Listener() {
                @Override
                public void started(int stage, int stages, int started, int total, Command command) {
                }

                @Override
                public void finished(CommandResult result) {
                }
            }).run(p);
        } finally {
            for (Stage s : p.stages()) {
                for (Command c : s.commands()) {
                    c.formula().targets().forEach(state::dirty);
                }
            }
        }
    }

    private static List<List<String>> targets(BuildPlan p) {
        return p.stages().stream().map(s -> s.commands().stream().map(Command::description).toList()).toList();
    }

    private void buildAll() {
        run(plan());
        assertThat(plan().stages()).isEmpty();
    }

    @Test
    void aNoOpAfterABuildIsDecidedFromWhatChanged() {
        buildAll();
        assertThat(decidedFromChanges).isTrue();
        assertThat(plan().stages()).isEmpty();
        assertThat(decidedFromChanges).isTrue();
    }

    @Test
    void anEditReportedAfterANoOpRebuildsItsDependents() {
        buildAll();
        write(dir, "a", "changed");
        state.dirty("a");
        assertThat(targets(plan())).containsExactly(List.of("b"), List.of("c"));
        assertThat(decidedFromChanges).isFalse();
    }

    @Test
    void aTargetRemovedIsRebuilt() throws Exception {
        buildAll();
        Files.delete(dir.resolve("c"));
        state.dirty("c");
        assertThat(targets(plan())).containsExactly(List.of("c"));
    }

    @Test
    void aDirectoryReportedByItsOwnNameRebuildsWhatIsUnderIt() throws Exception {
        write(dir, "fabfile", "[ out/b ] : [ in/a ] { mkdir -p out; cp in/a out/b }\n[ @all ] : [ out/b ]\n", "in/a", "1");
        load();
        buildAll();
        // inotify names only the directory when it is renamed or removed.
        Files.move(dir.resolve("out"), dir.resolve("gone"));
        state.dirty("out");
        assertThat(targets(plan())).containsExactly(List.of("out/b"));
        run(plan());
        assertThat(plan().stages()).isEmpty();
        write(dir, "in/a", "2");
        state.dirty("in");
        assertThat(targets(plan())).containsExactly(List.of("out/b"));
    }

    @Test
    void aCommandThatFailedIsPlannedAgainWithNothingReported() {
        write(dir, "fabfile", "[ b ] : [ a ] { test -f ok && cp a b }\n[ @all ] : [ b ]\n");
        load();
        assertThatThrownBy(() -> run(plan())).isInstanceOf(FabException.class);
        assertThat(targets(plan())).containsExactly(List.of("b"));
        assertThat(targets(plan())).containsExactly(List.of("b"));
    }

    @Test
    void aPlanThatWasNotRunIsPlannedAgain() {
        buildAll();
        write(dir, "x", "changed");
        state.dirty("x");
        // fab -p: planned, shown, not run.
        assertThat(targets(plan())).containsExactly(List.of("d"));
        assertThat(targets(plan())).containsExactly(List.of("d"));
    }

    @Test
    void aSourceOnlyTheDepfileNamesIsWatchedToo() {
        write(dir, "fabfile", "[ out ] : [ in ] depfile [ out.d ] { cat in hdr.h > out; printf 'out: in hdr.h\\n' > out.d }\n"
                + "[ @all ] : [ out ]\n", "in", "1", "hdr.h", "h1");
        load();
        buildAll();
        assertThat(plan().stages()).isEmpty();
        write(dir, "hdr.h", "h2");
        state.dirty("hdr.h");
        assertThat(targets(plan())).containsExactly(List.of("out"));
    }

    @Test
    void aSourceReachedThroughALinkIsLookedAtEveryTime() throws Exception {
        Files.writeString(outside.resolve("a"), "1");
        Files.delete(dir.resolve("a"));
        Files.createSymbolicLink(dir.resolve("a"), outside.resolve("a"));
        load();
        buildAll();
        assertThat(plan().stages()).isEmpty();
        // Outside the project: no watcher reports it, and nothing is dirtied.
        Files.writeString(outside.resolve("a"), "2");
        assertThat(targets(plan())).containsExactly(List.of("b"), List.of("c"));
    }

    @Test
    void anInvalidatedFormulaIsRebuilt() {
        buildAll();
        // fab +b c: forgets the formula's last success.
        state.forget(graph.node("c").formula());
        state.save();
        assertThat(targets(plan())).containsExactly(List.of("c"));
    }

    @Test
    void trustWithdrawnLooksAtEverythingAgain() throws Exception {
        buildAll();
        state.trust(false);
        // A change nobody reported (faba restarted, the watcher overflowed): found by looking.
        write(dir, "x", "changed, unreported");
        assertThat(targets(plan())).containsExactly(List.of("d"));
        assertThat(decidedFromChanges).isFalse();
    }

    @Test
    void anotherSelectionIsPlannedInFull() {
        buildAll();
        write(dir, "x", "changed");
        state.dirty("x");
        Planner planner = new Planner(graph, state, CyclePolicy.WARN, w -> { });
        assertThat(targets(planner.plan(List.of("c"), false))).isEmpty();
        assertThat(targets(plan())).containsExactly(List.of("d"));
    }

    @Test
    void whatTheLastPlanFoundChangedStaysKnownAcrossSelections() {
        buildAll();
        List<String> lines = new ArrayList<>();
        write(dir, "a", "changed");
        state.dirty("a");
        Planner planner = new Planner(graph, state, CyclePolicy.WARN, w -> { }).onEvaluate(lines::add);
        assertThat(targets(planner.plan(List.of("d"), false))).isEmpty();
        assertThat(lines).containsExactly("d: up to date");
        // The edit of a was drained by the plan of d; the next plan of everything must still see it.
        assertThat(targets(plan())).containsExactly(List.of("b"), List.of("c"));
    }
}
