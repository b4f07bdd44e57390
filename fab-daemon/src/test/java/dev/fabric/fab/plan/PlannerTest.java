package dev.fabric.fab.plan;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Listener;
import dev.fabric.fab.exec.Runner;
import dev.fabric.fab.fabfile.Loader;
import dev.fabric.fab.graph.Graph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlannerTest {
    /** Two chains under one phony target; IncrementalPlanTest plans the same project. */
    static final String CHAIN = """
            [ b ] : [ a ] { cp a b }
            [ c ] : [ b ] { cp b c }
            [ d ] : [ x ] { cp x d }
            [ @all ] : [ c d ]
            """;

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    private BuildPlan plan(CyclePolicy policy) {
        Graph g = Graph.of(new Loader().load(dir.resolve("fabfile")));
        return new Planner(g, State.load(dir), policy, warnings::add).plan(g.defaultSelection(), false);
    }

    private BuildPlan plan() {
        return plan(CyclePolicy.WARN);
    }

    private void build() {
        BuildPlan p = plan();
        new Runner(dir, State.load(dir), 2, new Listener() {
            @Override
            public void started(int stage, int stages, int started, int total, Command command) {
            }

            @Override
            public void finished(CommandResult result) {
            }
        }).run(p);
        // Each run stores state, as a fresh process would find it.
    }

    private static List<List<String>> targetsByStage(BuildPlan p) {
        return p.stages().stream().map(s -> s.commands().stream().map(Command::description).toList()).toList();
    }

    @Test
    void firstPlanHasStagesInDependencyOrder() {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        BuildPlan p = plan();
        assertThat(targetsByStage(p)).containsExactly(List.of("b", "d"), List.of("c"));
        assertThat(p.stages().getFirst().commands().getFirst().reason()).isEqualTo("target b is missing");
        assertThat(p.describe()).contains("stage 1/2", "  b  (target b is missing)", "    cp a b");
    }

    @Test
    void upToDateAfterABuildAndTouchingRebuildsNothing() throws Exception {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        build();
        assertThat(plan().stages()).isEmpty();
        Files.setLastModifiedTime(dir.resolve("a"), FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(plan().stages()).isEmpty();
    }

    @Test
    void changedSourceRebuildsExactlyItsDependents() {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        build();
        write(dir, "a", "changed");
        BuildPlan p = plan();
        assertThat(targetsByStage(p)).containsExactly(List.of("b"), List.of("c"));
        assertThat(p.stages().get(0).commands().getFirst().reason()).isEqualTo("source a changed");
        assertThat(p.stages().get(1).commands().getFirst().reason()).isEqualTo("source b will be rebuilt");
    }

    @Test
    void changedFormulaRebuildsItsTargets() {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        build();
        write(dir, "fabfile", CHAIN.replace("cp x d", "cat x > d"));
        BuildPlan p = plan();
        assertThat(targetsByStage(p)).containsExactly(List.of("d"));
        assertThat(p.stages().getFirst().commands().getFirst().reason()).isEqualTo("formula changed");
    }

    @Test
    void stateSurvivesInAFileForTheNextProcess() {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        build();
        assertThat(dir.resolve(".fab/state")).isRegularFile();
        assertThat(State.load(dir).hash("a")).hasSize(64);
    }

    @Test
    void fileReplacedByRenameWithTheSameSizeAndModificationTimeIsStale() throws Exception {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        build();
        write(dir, "a.new", "9");
        Files.setLastModifiedTime(dir.resolve("a.new"), Files.getLastModifiedTime(dir.resolve("a")));
        Files.move(dir.resolve("a.new"), dir.resolve("a"), StandardCopyOption.REPLACE_EXISTING);
        assertThat(targetsByStage(plan())).containsExactly(List.of("b"), List.of("c"));
    }

    @Test
    void stateFileWrittenBeforeInodesWereKeptStillLoads() throws Exception {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        build();
        Path file = dir.resolve(".fab/state");
        List<String> fiveFields = Files.readAllLines(file).stream()
                .map(l -> l.startsWith("file\t") ? String.join("\t", List.of(l.split("\t")).subList(0, 5)) : l).toList();
        Files.write(file, fiveFields);
        assertThat(plan().stages()).isEmpty();
        write(dir, "a", "changed");
        assertThat(targetsByStage(plan())).containsExactly(List.of("b"), List.of("c"));
    }

    @Test
    void discoveredDependenciesRebuildWhenTheirContentChanges() throws Exception {
        write(dir, "fabfile", "[ out ] : [ in ] depfile [ out.d ] { cat in hdr.h > out; printf 'out: in \\\\\\n hdr.h\\n' > out.d }",
                "in", "1", "hdr.h", "h1");
        build();
        assertThat(Files.readString(dir.resolve("out.d"))).isEqualTo("out: in \\\n hdr.h\n");
        assertThat(plan().stages()).isEmpty();
        Files.setLastModifiedTime(dir.resolve("hdr.h"), FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(plan().stages()).isEmpty();
        write(dir, "hdr.h", "h2");
        assertThat(plan().stages().getFirst().commands().getFirst().reason()).isEqualTo("discovered source hdr.h changed");
    }

    private static final String EXTRA_EDGES = """
            [ gen.h ] : [ ] { echo '#define X 1' > gen.h }
            [ build/a.o ] : [ src/a.c ] { cat src/a.c gen.h > build/a.o }
            [ build/a.o ] : [ gen.h src/config.h ]
            """;

    @Test
    void ruleWithoutFormulaOrdersTheTargetAfterItsExtraSources() {
        write(dir, "fabfile", EXTRA_EDGES, "src/a.c", "a", "src/config.h", "c1");
        assertThat(targetsByStage(plan())).containsExactly(List.of("gen.h"), List.of("build/a.o"));
    }

    @Test
    void ruleWithoutFormulaMakesTheTargetStaleWhenAnExtraSourceChanges() {
        write(dir, "fabfile", EXTRA_EDGES, "src/a.c", "a", "src/config.h", "c1");
        build();
        assertThat(plan().stages()).isEmpty();
        write(dir, "src/config.h", "c2");
        BuildPlan p = plan();
        assertThat(targetsByStage(p)).containsExactly(List.of("build/a.o"));
        assertThat(p.stages().getFirst().commands().getFirst().reason()).isEqualTo("source src/config.h changed");
    }

    @Test
    void nofileWithAFormulaRunsWheneverSelected() {
        write(dir, "fabfile", "[ @test ] : [ a ] { true }", "a", "");
        build();
        assertThat(plan().stages().getFirst().commands().getFirst().reason()).isEqualTo("nofile @test runs whenever it is selected");
    }

    @Test
    void missingSourceWithoutFormulaIsUnsatisfied() {
        write(dir, "fabfile", CHAIN, "a", "1");
        assertThatThrownBy(this::plan)
                .hasMessageContaining("no file and no formula for x (needed by d)")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.UNSATISFIED);
    }

    private static final String CYCLE = """
            [ p ] : [ q ] { touch p }
            [ q ] : [ p ] { touch q }
            [ @all ] : [ p q ]
            """;

    @Test
    void cycleWarnsOncePerUniqueCycleAndBuilds() {
        write(dir, "fabfile", CYCLE);
        BuildPlan p = plan(CyclePolicy.WARN);
        assertThat(warnings).containsExactly("fab: warning: dependency cycle p -> q -> p (broken at q -> p)");
        assertThat(p.commandCount()).isEqualTo(2);
        assertThat(p.stages()).hasSize(2);
    }

    @Test
    void cycleFailsWithCycleStatus() {
        write(dir, "fabfile", CYCLE);
        assertThatThrownBy(() -> plan(CyclePolicy.FAIL))
                .hasMessageContaining("dependency cycle: p -> q -> p")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.CYCLE);
    }

    @Test
    void cycleDealtWithSilently() {
        write(dir, "fabfile", CYCLE);
        assertThat(plan(CyclePolicy.DEAL).commandCount()).isEqualTo(2);
        assertThat(warnings).isEmpty();
    }

    @Test
    void exactlyPlansOnlyTheSelectedFormulas() {
        write(dir, "fabfile", CHAIN, "a", "1", "x", "2");
        Graph g = Graph.of(new Loader().load(dir.resolve("fabfile")));
        BuildPlan p = new Planner(g, State.load(dir), CyclePolicy.WARN, warnings::add).plan(List.of("c"), true);
        assertThat(targetsByStage(p)).containsExactly(List.of("c"));
    }

    @Test
    void withoutCrossingNofileStopsAtUnselectedNofileNodes() {
        write(dir, "fabfile", """
                [ app ] : [ a @gen ] { cp a app }
                [ @gen ] : [ g ]
                [ g ] : [ ] { touch g }
                """, "a", "1");
        Graph g = Graph.of(new Loader().load(dir.resolve("fabfile")));
        BuildPlan crossing = new Planner(g, State.load(dir), CyclePolicy.WARN, warnings::add).plan(List.of("app"), false, false);
        assertThat(targetsByStage(crossing)).containsExactly(List.of("g"), List.of("app"));
        BuildPlan notCrossing = new Planner(g, State.load(dir), CyclePolicy.WARN, warnings::add).plan(List.of("app"), false, true);
        assertThat(targetsByStage(notCrossing)).containsExactly(List.of("app"));
    }
}
