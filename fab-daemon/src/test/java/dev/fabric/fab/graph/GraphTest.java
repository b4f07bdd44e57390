package dev.fabric.fab.graph;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GraphTest {
    @TempDir
    Path dir;

    private Graph graph(String fabfile) {
        write(dir, "fabfile", fabfile);
        return Graph.of(new Loader().load(dir.resolve("fabfile")));
    }

    @Test
    void nodesArePrimarySecondaryOrNofileWithTheirEdges() {
        Graph g = graph("""
                [ build/a.o ] : [ src/a.c ] { cc -c $< -o $@ }
                [ build/app ] : [ build/a.o ] { cc -o $@ $^ }
                [ @all ] : [ build/app ]
                """);
        assertThat(g.node("src/a.c").kind()).isEqualTo(NodeKind.PRIMARY);
        assertThat(g.node("build/a.o").kind()).isEqualTo(NodeKind.SECONDARY);
        assertThat(g.node("@all").kind()).isEqualTo(NodeKind.NOFILE);
        assertThat(g.node("build/app").sources()).containsExactly("build/a.o");
        assertThat(g.node("build/app").formula().command()).isEqualTo("cc -o build/app build/a.o");
        assertThat(g.defaultSelection()).containsExactly("@all");
    }

    @Test
    void rulesWithoutFormulaAddEdges() {
        Graph g = graph("[ x ] : [ a ] { cat a > x }\n[ x ] : [ b ]");
        assertThat(g.node("x").sources()).containsExactly("a", "b");
        // The formula waits for, and is made stale by, the edges a formula-less rule adds; its text is as written.
        assertThat(g.node("x").formula().sources()).containsExactly("a", "b");
        assertThat(g.node("x").formula().command()).isEqualTo("cat a > x");
    }

    @Test
    void twoFormulasForOneTargetAreABadPlan() {
        assertThatThrownBy(() -> graph("[ x ] : [ ] { echo 1 > x }\n[ x ] : [ ] { echo 2 > x }"))
                .hasMessageContaining("two formulas produce x: one at fabfile:1, one at fabfile:2")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.BADPLAN);
    }

    @Test
    void selectorsByRelativePathAbsolutePathNameListDirectoryAndAll() {
        Graph g = graph("""
                [ build/a.o ] : [ src/a.c ] { cc }
                [ build/b.o ] : [ src/b.c ] { cc }
                [ @all ] : [ build/a.o build/b.o ]
                """);
        assertThat(Selector.select(g, List.of("a.o"), dir.resolve("build"))).containsExactly("build/a.o");
        assertThat(Selector.select(g, List.of(dir.resolve("build/b.o").toString()), Path.of("/"))).containsExactly("build/b.o");
        assertThat(Selector.select(g, List.of("@all"), dir)).containsExactly("@all");
        assertThat(Selector.select(g, List.of("[", "build/a.o", "@all", "]"), dir)).containsExactly("build/a.o", "@all");
        assertThat(Selector.select(g, List.of("[build/b.o]"), dir)).containsExactly("build/b.o");
        assertThat(Selector.select(g, List.of("build"), dir)).containsExactly("build/a.o", "build/b.o");
        assertThat(Selector.select(g, List.of("$!"), dir)).hasSize(5);
    }

    @Test
    void selectorMatchingNothingIsNoSelect() {
        Graph g = graph("[ x ] : [ ] { true }");
        assertThatThrownBy(() -> Selector.select(g, List.of("nothing/here"), dir))
                .hasMessageContaining("selector `nothing/here` matches nothing")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.NOSELECT);
        assertThatThrownBy(() -> Selector.select(g, List.of("@none"), dir))
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.NOSELECT);
    }
}
