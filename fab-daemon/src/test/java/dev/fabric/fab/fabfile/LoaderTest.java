package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoaderTest {
    @TempDir
    Path dir;

    private Model load() {
        return new Loader().load(dir.resolve("fabfile"));
    }

    private static Rule ruleFor(Model m, String target) {
        return m.rules().stream().filter(r -> r.targets().contains(target)).findFirst().orElseThrow();
    }

    @Test
    void patternRuleCompilesEveryCUnderSrcToAnOUnderBuild() {
        write(dir, "src/a.c", "", "src/sub/b.c", "", "src/notes.txt", "", "fabfile", """
                $cc = [ gcc ]
                $cflags = [ -O2 ]
                $cflags += [ -Wall ]
                [ build/%.o ] : [ src/%.c ] { $cc $cflags -c $< -o $@ }
                $objs = [ src/%.c -> build/%.o ]
                [ build/app ] : [ $objs ] { $cc -o $@ $^ }
                """);
        Model m = load();
        assertThat(m.rules()).hasSize(3);
        assertThat(ruleFor(m, "build/a.o").formula()).isEqualTo("gcc -O2 -Wall -c src/a.c -o build/a.o");
        assertThat(ruleFor(m, "build/sub/b.o").sources()).containsExactly("src/sub/b.c");
        assertThat(ruleFor(m, "build/app").sources()).containsExactly("build/a.o", "build/sub/b.o");
        assertThat(ruleFor(m, "build/app").formula()).isEqualTo("gcc -o build/app build/a.o build/sub/b.o");
    }

    @Test
    void percentWordListsMatchingFilesAndVariablesInterpolate() {
        write(dir, "src/a.c", "", "src/b.c", "", "fabfile", """
                $dir = [ src ]
                $srcs = [ $dir/%.c ]
                $flags = [ -I$dir/x -I$dir/y ]
                [ out ] : [ $srcs ] { cat $^ $flags $$HOME $* > $@ }
                """);
        Rule r = ruleFor(load(), "out");
        assertThat(r.sources()).containsExactly("src/a.c", "src/b.c");
        assertThat(r.formula()).isEqualTo("cat src/a.c src/b.c -Isrc/x -Isrc/y $HOME  > out");
    }

    @Test
    void stemOfAPatternRuleIsDollarStar() {
        write(dir, "src/x/y.c", "", "fabfile", "[ out/%.s ] : [ src/%.c ] { cc -S $< -o $@ # $* }");
        assertThat(load().rules().getFirst().formula()).isEqualTo("cc -S src/x/y.c -o out/x/y.s # x/y");
    }

    @Test
    void patternRuleDepfileTakesTheStem() {
        write(dir, "src/m.c", "", "fabfile", "[ build/%.o ] : [ src/%.c ] depfile [ build/%.d ] { cc -MMD -MF build/$*.d -c $< -o $@ }");
        Rule r = load().rules().getFirst();
        assertThat(r.depfile()).isEqualTo("build/m.d");
        assertThat(r.formula()).isEqualTo("cc -MMD -MF build/m.d -c src/m.c -o build/m.o");
    }

    @Test
    void oneFormulaProducesSeveralTargets() {
        write(dir, "in", "", "fabfile", "[ gen/a.h gen/a.c ] : [ in ] { touch $@ }");
        Rule r = ruleFor(load(), "gen/a.c");
        assertThat(r.targets()).containsExactly("gen/a.h", "gen/a.c");
        assertThat(r.formula()).isEqualTo("touch gen/a.h gen/a.c");
    }

    @Test
    void invocationPassesVariablesAndExposesItsScope() {
        write(dir, "lib/fabfile", """
                [ build/l.o ] : [ l.c ] { $cc $opt -c $< -o $@ }
                $out = [ build/l.o ]
                """, "lib/l.c", "", "fabfile", """
                $cc = [ clang ]
                +[ lib ] ( $cc $opt = [ -O0 ] ) @lib
                [ app ] : [ lib/$lib.out ] { ld $^ }
                """);
        Model m = load();
        Rule lib = ruleFor(m, "lib/build/l.o");
        assertThat(lib.formula()).isEqualTo("clang -O0 -c l.c -o build/l.o");
        assertThat(lib.dir()).isEqualTo(dir.resolve("lib"));
        assertThat(ruleFor(m, "app").sources()).containsExactly("lib/build/l.o");
        assertThat(m.fabfiles()).hasSize(2);
    }

    @Test
    void invokedFabfileDoesNotSeeUnpassedVariables() {
        write(dir, "lib/fabfile", "[ x ] : [ ] { $cc }", "fabfile", "$cc = [ gcc ]\n+[ lib ]");
        assertThatThrownBy(this::load).isInstanceOf(FabException.class)
                .hasMessageContaining("lib/fabfile:1:15: syntax error: expected a defined variable, found `$cc`");
    }

    @Test
    void unresolvableInvocationIsNoInvoke() {
        write(dir, "fabfile", "\n  +[ nowhere ]");
        assertThatThrownBy(this::load).isInstanceOf(FabException.class)
                .hasMessageContaining("fabfile:2:3: cannot invoke `nowhere`")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.NOINVOKE);
    }

    @Test
    void invocationIsAlsoLookedUpInIncludeDirectories(@TempDir Path include) {
        write(include, "shared/fabfile", "[ @shared ] : [ ]");
        write(dir, "fabfile", "+[ shared ]");
        Model m = new Loader(List.of(), List.of(include), Set.of()).load(dir.resolve("fabfile"));
        assertThat(m.rules()).extracting(Rule::targets).containsExactly(List.of("@shared"));
    }

    @Test
    void invocationCycleIsNoInvoke() {
        write(dir, "a/fabfile", "+[ ../b ]", "b/fabfile", "+[ ../a ]", "fabfile", "+[ a ]");
        assertThatThrownBy(this::load).hasMessageContaining("invocation cycle")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.NOINVOKE);
    }

    @Test
    void commandLineOverridesWinAndAppend() {
        write(dir, "fabfile", """
                $cc = [ gcc ]
                $cflags = [ -O2 ]
                $cflags += [ -Wall ]
                [ x ] : [ ] { $cc $cflags }
                """);
        Model m = new Loader(List.of(VariableOverride.parse("cc=clang"), VariableOverride.parse("$cflags+=[ -g -DDEBUG ]")),
                List.of(), Set.of()).load(dir.resolve("fabfile"));
        assertThat(ruleFor(m, "x").formula()).isEqualTo("clang -O2 -Wall -g -DDEBUG");
    }

    @Test
    void badOverrideIsBadArgs() {
        assertThatThrownBy(() -> VariableOverride.parse("novalue"))
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.BADARGS);
        assertThatThrownBy(() -> VariableOverride.parse("1x=2"))
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.BADARGS);
    }

    @Test
    void keptVariablesBecomeShellReferences() {
        write(dir, "fabfile", "$cc = [ gcc ]\n[ x ] : [ ] { $cc -o $@ }");
        Model m = new Loader(List.of(), List.of(), Set.of("cc")).load(dir.resolve("fabfile"));
        assertThat(ruleFor(m, "x").formula()).isEqualTo("${cc} -o x");
        assertThat(m.kept()).containsEntry("cc", List.of("gcc"));
    }

    @Test
    void keptVariablesKeepTheirValuesInDiscoveriesWhichFabRunsItself() {
        write(dir, "src/a.c", "", "fabfile", "$cc = [ gcc ]\ndiscover [ src/%.c ] { $cc -I. -MM -MG -MP $< }\n[ x ] : [ ] { $cc -o $@ }");
        Model m = new Loader(List.of(), List.of(), Set.of("cc")).load(dir.resolve("fabfile"));
        assertThat(m.discoveries().getFirst().command()).isEqualTo("gcc -I. -MM -MG -MP src/a.c");
        assertThat(ruleFor(m, "x").formula()).isEqualTo("${cc} -o x");
    }

    @Test
    void patternRuleWithoutAPercentSourceIsASyntaxError() {
        write(dir, "fabfile", "[ build/%.o ] : [ x.c ] { cc }");
        assertThatThrownBy(this::load).hasMessageContaining("fabfile:1:1: syntax error: expected a source with `%`")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.SYNTAX);
    }

    @Test
    void missingInitialFabfileIsNoInvoke() {
        assertThatThrownBy(this::load).hasMessageContaining("no fabfile at")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.NOINVOKE);
    }

    private static final String GENERATED = """
            [ gen/%.c ] : [ defs/%.txt ] { cp $< $@ }
            $gens = [ defs/%.txt -> gen/%.c ]
            [ build/%.o ] : [ gen/%.c ] { cc -c $< -o $@ }
            $objs = [ gen/%.c -> build/%.o ]
            [ build/tables.a ] : [ $gens $objs ] { ar rcs $@ $^ }
            """;

    private List<String> rulesOf(Model m) {
        return m.rules().stream().map(r -> r.targets() + " <- " + r.sources() + " { " + r.formula() + " }").toList();
    }

    @Test
    void patternNeverMatchesAProductWhetherOrNotABuildLeftItOnDisk() {
        write(dir, "defs/a.txt", "red", "defs/b.txt", "blue", "fabfile", GENERATED);
        List<String> cold = rulesOf(load());
        write(dir, "gen/a.c", "", "gen/b.c", "", "build/a.o", "");
        assertThat(rulesOf(load())).isEqualTo(cold);
        assertThat(ruleFor(load(), "build/tables.a").sources()).containsExactly("gen/a.c", "gen/b.c");
        assertThat(load().rules()).noneMatch(r -> r.targets().contains("build/a.o"));
    }

    @Test
    void patternWrittenBeforeTheRuleThatMakesItsFilesStillLeavesThemOut() {
        write(dir, "defs/a.txt", "", "gen/a.c", "", "gen/old.c", "", "fabfile", """
                $srcs = [ gen/%.c ]
                [ gen/%.c ] : [ defs/%.txt ] { cp $< $@ }
                [ out ] : [ $srcs ] { cat $^ > $@ }
                """);
        // gen/old.c is no rule's target: a source, matched; gen/a.c is made by line 2.
        assertThat(ruleFor(load(), "out").sources()).containsExactly("gen/old.c");
    }

    @Test
    void productOfAPlainRuleIsLeftOutToo() {
        write(dir, "src/main.c", "", "src/version.c", "", "fabfile", """
                [ src/version.c ] : [ VERSION ] { echo "int v;" > $@ }
                [ app ] : [ src/%.c ] { cc -o $@ $^ }
                """);
        assertThat(ruleFor(load(), "app").sources()).containsExactly("src/main.c");
    }

    @Test
    void patternThatWouldMatchProductsIsWarnedOfWithWhatToWriteInstead() {
        write(dir, "defs/a.txt", "red", "defs/b.txt", "blue", "fabfile", GENERATED);
        List<String> warnings = new java.util.ArrayList<>();
        new Loader().onNote((n, m) -> {
            if (n == Loader.Note.WARN) {
                warnings.add(m);
            }
        }).load(dir.resolve("fabfile"));
        assertThat(warnings).containsExactly(
                "fab: warning: fabfile:3:1: pattern `gen/%.c` matches sources, never products: not gen/a.c gen/b.c (made by fabfile:1); "
                        + "match the sources they are made from instead: `[ build/%.o ] : [ defs/%.txt gen/%.c ]`, naming `gen/$*.c` in the formula where `$<` named it",
                "fab: warning: fabfile:4:11: pattern `gen/%.c` matches sources, never products: not gen/a.c gen/b.c (made by fabfile:1); "
                        + "match the sources they are made from instead: `[ defs/%.txt -> build/%.o ]`");
    }

    @Test
    void suggestedFormsMatchTheSourcesAndWarnOfNothing() {
        write(dir, "defs/a.txt", "red", "defs/b.txt", "blue", "gen/a.c", "", "fabfile", """
                [ gen/%.c ] : [ defs/%.txt ] { cp $< $@ }
                $gens = [ defs/%.txt -> gen/%.c ]
                [ build/%.o ] : [ defs/%.txt gen/%.c ] { cc -c gen/$*.c -o $@ }
                $objs = [ defs/%.txt -> build/%.o ]
                [ build/tables.a ] : [ $gens $objs ] { ar rcs $@ $^ }
                """);
        List<String> warnings = new java.util.ArrayList<>();
        Model m = new Loader().onNote((n, msg) -> {
            if (n == Loader.Note.WARN) {
                warnings.add(msg);
            }
        }).load(dir.resolve("fabfile"));
        assertThat(warnings).isEmpty();
        assertThat(ruleFor(m, "build/a.o").sources()).containsExactly("defs/a.txt", "gen/a.c");
        assertThat(ruleFor(m, "build/a.o").formula()).isEqualTo("cc -c gen/a.c -o build/a.o");
        assertThat(ruleFor(m, "build/tables.a").sources()).containsExactly("gen/a.c", "gen/b.c", "build/a.o", "build/b.o");
    }
}
