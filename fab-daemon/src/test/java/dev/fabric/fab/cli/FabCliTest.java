package dev.fabric.fab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;

/** The command line in-process: every exit status it implements, and its options. */
class FabCliTest {
    @TempDir
    Path dir;

    private String out;
    private String err;

    private int fab(String... args) {
        return fabIn(dir, args);
    }

    private int fabIn(Path cwd, String... args) {
        return fabOn(cwd, false, args);
    }

    private int fabOn(Path cwd, boolean terminal, String... args) {
        var o = new ByteArrayOutputStream();
        var e = new ByteArrayOutputStream();
        int status = FabCli.run(args, cwd, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8), terminal);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return status;
    }

    private static final String SIMPLE = """
            $greeting = [ hello ]
            [ out/a ] : [ in ] { cat in > $@; echo $greeting >> $@ }
            [ out/b ] : [ out/a ] { cp $< $@ }
            [ @all ] : [ out/b ]
            """;

    @Test
    void buildsAndExitsZeroThenHasNothingToDo() throws Exception {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab()).isZero();
        assertThat(out).contains("[stage 1/2] [1/2] out/a", "[stage 2/2] [2/2] out/b");
        assertThat(Files.readString(dir.resolve("out/b"))).isEqualTo("x\nhello\n");
        assertThat(fab()).isZero();
        assertThat(out).contains("nothing to do");
    }

    @Test
    void progressRewritesOneLineOnATerminal() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fabOn(dir, true)).isZero();
        assertThat(out).isEqualTo("\r\033[K[stage 1/2] [1/2] out/a\r\033[K[stage 2/2] [2/2] out/b\n");
    }

    @Test
    void commandOutputIsShownAfterTheCommand() {
        write(dir, "fabfile", "[ x ] : [ ] { echo made it; echo careful >&2; touch x }");
        assertThat(fab()).isZero();
        assertThat(out).isEqualTo("[stage 1/1] [1/1] x\nmade it\n");
        assertThat(err).isEqualTo("careful\n");
    }

    @Test
    void planOnlyPrintsStagesCommandsAndReasonsAndRunsNothing() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("-p")).isZero();
        assertThat(out).contains("stage 1/2", "out/a  (target out/a is missing)", "cat in > out/a; echo hello >> out/a");
        assertThat(dir.resolve("out/a")).doesNotExist();
    }

    @Test
    void variableOverrideFromTheCommandLine() throws Exception {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("-v", "greeting=bonjour")).isZero();
        assertThat(Files.readString(dir.resolve("out/a"))).isEqualTo("x\nbonjour\n");
        assertThat(fab("-v", "greeting=bonjour", "-p")).isZero();
        assertThat(out).contains("nothing to do");
        assertThat(fab("-p")).isZero();
        assertThat(out).contains("out/a  (formula changed)");
    }

    @Test
    void selectorsRelativeToCurrentOrFabfileDirectory() throws Exception {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        Files.createDirectories(dir.resolve("out"));
        assertThat(fabIn(dir.resolve("out"), "-f", "../fabfile", "+q", "a")).isZero();
        assertThat(out).isEqualTo("out/a\n");
        assertThat(fabIn(dir.resolve("out"), "-f", "../fabfile", "+F", "+q", "in")).isZero();
        assertThat(out).isEqualTo("in\n");
        assertThat(fab("+i", "out/b")).isZero();
        assertThat(out).startsWith("out/b  secondary  <- out/a  by fabfile:3");
    }

    @Test
    void exactlyBuildsOnlyTheSelectedNode() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("+x", "out/a")).isZero();
        assertThat(dir.resolve("out/a")).exists();
        assertThat(dir.resolve("out/b")).doesNotExist();
    }

    @Test
    void withoutCrossingNofileSkipsNofileDependencies() {
        write(dir, "fabfile", "[ app ] : [ @prep ] { touch app }\n[ @prep ] : [ ] { touch prepared }");
        assertThat(fab("+n", "app")).isZero();
        assertThat(dir.resolve("app")).exists();
        assertThat(dir.resolve("prepared")).doesNotExist();
        assertThat(fab("app")).isZero();
        assertThat(dir.resolve("prepared")).exists();
    }

    @Test
    void invalidateMakesTheNextBuildRunAgain() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab()).isZero();
        assertThat(fab("+b", "out/a")).isZero();
        assertThat(fab("-p")).isZero();
        assertThat(out).contains("out/a  (never built by fab)", "out/b  (source out/a will be rebuilt)");
    }

    @Test
    void logCategoriesSwitchDetailOnAndOff() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("+BPCMD", "+BPEXEC", "+BPINFO", "+SELECT", "+INVOKE", "-INFO")).isZero();
        assertThat(out).contains("plan: 2 stage(s), 2 command(s)", "cp out/a out/b", "exit 0: out/b", "selected @all", "fabfile ")
                .doesNotContain("[stage");
    }

    @Test
    void moreLogCategoriesShowArgsNodesEvaluationPlanInvalidationAndDiscovery() {
        write(dir, "fabfile", SIMPLE + "[ z ] : [ in ] depfile [ z.d ] { echo 'z: in extra.h' > z.d; touch z }\n", "in", "x\n",
                "extra.h", "");
        assertThat(fab("+ARGS", "+NODE", "+BPDUMP", "+DSCRES", "-INFO", "z", "out/a")).isZero();
        assertThat(out).contains("args: fabfile=fabfile jobs=-1 node-sets=[t] selectors=[z, out/a]",
                "nodes primary: 1", "nodes secondary: 3", "nodes nofile: 1",
                "stage 1/1", "z discovered in extra.h");
        assertThat(fab("+BPEVAL", "+INVALID", "+b", "+t", "-INFO", "out/a")).isZero();
        assertThat(out).contains("invalidated out/a", "out/a: never built by fab");
        assertThat(fab("+BPEVAL", "-INFO", "z")).isZero();
        assertThat(out).contains("z: up to date");
    }

    @Test
    void buildscriptPerformsThePlanWithKeptVariablesSettable(@TempDir Path clean) throws Exception {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        Path script = dir.resolve("build.sh");
        assertThat(fab("-k", "build.sh", "-K", "greeting")).isZero();
        assertThat(dir.resolve("out/a")).doesNotExist();
        write(clean, "in", "y\n");
        Process p = new ProcessBuilder("/bin/sh", script.toString()).directory(clean.toFile())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        assertThat(Files.readString(clean.resolve("out/b"))).isEqualTo("y\nhello\n");
        var pb = new ProcessBuilder("/bin/sh", script.toString()).directory(clean.toFile()).redirectErrorStream(true);
        pb.environment().put("greeting", "salut");
        Process p2 = pb.start();
        p2.getInputStream().readAllBytes();
        assertThat(p2.waitFor()).isZero();
        assertThat(Files.readString(clean.resolve("out/b"))).isEqualTo("y\nsalut\n");
    }

    @Test
    void buildscriptOfAnUpToDateTreeHasNoCommandsUntilEveryBuildIsForgotten() throws Exception {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab()).isZero();
        assertThat(fab("-k", "build.sh")).isZero();
        assertThat(out).contains("(0 commands)");
        assertThat(fab("+b", "$!")).isZero();
        assertThat(fab("-k", "build.sh")).isZero();
        assertThat(out).contains("(2 commands)");
        assertThat(Files.readString(dir.resolve("build.sh"))).contains("cat in > out/a", "cp out/a out/b");
    }

    private static final String DISCOVERING = """
            [ gen.h ] : [ ] { echo '#define N 1' > gen.h }
            discover [ src/%.c ] { sh deps.sh $< }
            [ build/%.o ] : [ src/%.c ] { cat $< > $@ }
            """;
    private static final String DEPS_SH = "echo \"$1: $(sed -n 's/^#include \"\\(.*\\)\"$/\\1/p' \"$1\" | tr '\\n' ' ')\"\n";

    @Test
    void discoveryOrdersAGeneratedHeaderFirstAndRebuildsOnItsChange() throws Exception {
        write(dir, "fabfile", DISCOVERING, "deps.sh", DEPS_SH, "src/a.c", "#include \"gen.h\"\n#include \"src/u.h\"\n", "src/u.h", "u1");
        assertThat(fab("-p")).isZero();
        assertThat(out).contains("stage 1/2", "  gen.h", "stage 2/2", "  build/a.o");
        assertThat(fab("+d")).isZero();
        assertThat(out).contains("src/a.c: gen.h src/u.h");
        assertThat(fab()).isZero();
        assertThat(fab()).isZero();
        assertThat(out).contains("nothing to do");
        write(dir, "src/u.h", "u2");
        assertThat(fab("+DSCINFO")).isZero();
        assertThat(out).contains("discovery: 1 of 1 source(s) to discover", "build/a.o");
    }

    @Test
    void sourcesSavedWhileTheirCommandRanAreReadAgainNextTime() throws Exception {
        // The command saves its source (no hash of it yet) and the header its depfile names for the first time, once,
        // after reading them: what it read is not what is there, so the next fab runs it again.
        write(dir, "fabfile", "[ out ] : [ in ] depfile [ out.d ] { cat in h > out; echo 'out: h' > out.d; "
                + "if grep -q 1 in; then echo 2 > in; echo h2 > h; fi }\n", "in", "1\n", "h", "h1\n");
        assertThat(fab()).isZero();
        assertThat(Files.readString(dir.resolve("out"))).isEqualTo("1\nh1\n");
        assertThat(fab("-p")).isZero();
        assertThat(out).contains("out  (source in changed)");
        assertThat(fab()).isZero();
        assertThat(Files.readString(dir.resolve("out"))).isEqualTo("2\nh2\n");
        assertThat(fab()).isZero();
        assertThat(out).contains("nothing to do");
    }

    @Test
    void sourceSavedWhileItsDiscoveryRanIsDiscoveredAgain() throws Exception {
        // The discovery saves its source with a new #include after reading it: its dependencies are those of the old text.
        write(dir, "fabfile", DISCOVERING, "deps.sh", DEPS_SH + "grep -q u.h \"$1\" || echo '#include \"src/u.h\"' >> \"$1\"\n",
                "src/a.c", "int a;\n", "src/u.h", "u1");
        assertThat(fab()).isZero();
        assertThat(fab("+d")).isZero();
        assertThat(out).contains("src/a.c: src/u.h");
        assertThat(fab()).isZero();
        write(dir, "src/u.h", "u2");
        assertThat(fab("-p")).isZero();
        assertThat(out).contains("build/a.o");
    }

    @Test
    void loaderAndDiscoveryLogCategoriesPrintWhatTheyName() throws Exception {
        write(dir, "lib/fabfile", "[ build/l.o ] : [ l.c ] { echo $cc $opt > $@ }\n", "lib/l.c", "",
                "fabfile", DISCOVERING + "$cc = [ clang ]\n$srcs = [ src/%.c ]\n+[ lib ] ( $cc $opt = [ -O0 ] )\n",
                "deps.sh", DEPS_SH, "src/a.c", "#include \"gen.h\"\n");
        assertThat(fab("+PARAMS", "+VAR", "+LISTS", "+DSCCMD", "+DSCEXEC", "-p")).as(err).isZero();
        String all = out + err;
        assertThat(all).contains("$cc = [ clang ]", "<- $opt = [ -O0 ]", "src/%.c in ", "src/a.c", "sh deps.sh src/a.c",
                "exit 0: ");
        assertThat(all).doesNotContain("unknown");
    }

    @Test
    void discoveryOutputThatIsNotMakeSyntaxExitsEight() {
        write(dir, "fabfile", "discover [ a.c ] { echo not make syntax }\n[ out ] : [ a.c ] { cp a.c out }\n", "a.c", "x");
        assertThat(fab()).isEqualTo(8);
        assertThat(err).contains("discovery of a.c", "cc -MM -MG -MP");
    }

    @Test
    void badArgumentsExitOne() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("-j", "many")).isEqualTo(1);
        assertThat(err).contains("-j");
        assertThat(fab("-z")).isEqualTo(1);
        assertThat(fab("+NOPE")).isEqualTo(1);
        assertThat(fab("-v", "oops")).isEqualTo(1);
    }

    @Test
    void helpListsEveryExitStatusFabProduces() {
        assertThat(fab("--help")).isZero();
        assertThat(out).contains("9 NOINVOKE (an invocation, or the initial fabfile, not found)", "15 FABPERMS", "16 NOTOWNER");
    }

    @Test
    void syntaxErrorExitsFour() {
        write(dir, "fabfile", "[ a ] : [ b ] }\n");
        assertThat(fab()).isEqualTo(4);
        assertThat(err).contains("fabfile:1:15: expected a statement");
    }

    @Test
    void illegalByteExitsFive() throws Exception {
        Files.write(dir.resolve("fabfile"), new byte[] {'[', ' ', 'a', (byte) 0x80, ' ', ']'});
        assertThat(fab()).isEqualTo(5);
        assertThat(err).contains("fabfile:1:4: illegal byte 0x80");
    }

    @Test
    void unsatisfiedExitsSix() {
        write(dir, "fabfile", SIMPLE);
        assertThat(fab()).isEqualTo(6);
        assertThat(err).contains("no file and no formula for in (needed by out/a)");
    }

    @Test
    void failingCommandExitsSevenWithCommandStatusAndStderr() {
        write(dir, "fabfile", "[ x ] : [ ] { echo half > x; echo 'no good' >&2; exit 2 }");
        assertThat(fab()).isEqualTo(7);
        assertThat(err).contains("exit status 2", "echo half > x", "no good");
        assertThat(dir.resolve("x")).doesNotExist();
    }

    @Test
    void failingCommandShowsItsStdoutToo() {
        write(dir, "fabfile", "[ @t ] : [ ] { echo ASSERTION FAILED; exit 1 }");
        assertThat(fab()).isEqualTo(7);
        assertThat(out + err).contains("ASSERTION FAILED\n");
        assertThat(err).contains("stdout:\nASSERTION FAILED", "(no stderr)");
    }

    @Test
    void buildscriptOfARuleWithoutFormulaBuildsTheExtraSourceFirst(@TempDir Path clean) throws Exception {
        // The repro: the script put gen.h and build/a.o in one stage, so a clean run failed at random.
        write(dir, "fabfile", """
                [ gen.h ] : [ ] { sleep 1; echo '#define X 1' > gen.h }
                [ build/a.o ] : [ src/a.c ] { cat src/a.c gen.h > build/a.o }
                [ build/a.o ] : [ gen.h ]
                """, "src/a.c", "a\n");
        assertThat(fab("-k", "build.sh")).isZero();
        write(clean, "src/a.c", "a\n");
        Process p = new ProcessBuilder("/bin/sh", dir.resolve("build.sh").toString()).directory(clean.toFile())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        assertThat(Files.readString(clean.resolve("build/a.o"))).isEqualTo("a\n#define X 1\n");
    }

    private static final String FAILING_MIDDLE_LINE = """
            [ out.txt ] : [ ] {
              false
              echo made > out.txt
            }
            """;

    @Test
    void failingLineFailsTheFormulaAsTheBuildscriptDoes(@TempDir Path clean) throws Exception {
        write(dir, "fabfile", FAILING_MIDDLE_LINE);
        assertThat(fab()).isEqualTo(7);
        assertThat(err).contains("exit status 1", "false");
        assertThat(dir.resolve("out.txt")).doesNotExist();
        assertThat(fab("-k", "build.sh")).isZero();
        Process p = new ProcessBuilder("/bin/sh", dir.resolve("build.sh").toString()).directory(clean.toFile())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isEqualTo(7);
        assertThat(clean.resolve("out.txt")).doesNotExist();
    }

    @Test
    void unreadableDepfileExitsEight() {
        write(dir, "fabfile", "[ x ] : [ ] depfile [ x.d ] { touch x; echo 'not a rule' > x.d }");
        assertThat(fab()).isEqualTo(8);
        assertThat(err).contains("depfile x.d:1: expected `target: dependencies`").doesNotContain("not a rule");
        write(dir, "fabfile", "[ y ] : [ ] depfile [ y.d ] { touch y }");
        assertThat(fab()).isEqualTo(8);
        assertThat(err).contains("depfile y.d was not written by its formula");
    }

    @Test
    void unresolvableInvocationExitsNine() {
        write(dir, "fabfile", "+[ missing/dir ]");
        assertThat(fab()).isEqualTo(9);
        assertThat(err).contains("cannot invoke `missing/dir`");
    }

    @Test
    void twoFormulasForATargetExitTen() {
        write(dir, "fabfile", "[ x ] : [ ] { true }\n[ x ] : [ ] { false }");
        assertThat(fab()).isEqualTo(10);
    }

    @Test
    void cycleWithCyclesFailExitsElevenAndWarnsByDefault() {
        write(dir, "fabfile", "[ p ] : [ q ] { touch p }\n[ q ] : [ p ] { touch q }");
        assertThat(fab("--cycles-fail")).isEqualTo(11);
        assertThat(err).contains("dependency cycle: p -> q -> p");
        assertThat(fab()).isZero();
        assertThat(err).containsOnlyOnce("warning: dependency cycle");
        assertThat(fab("--cycles-deal", "-p")).isZero();
        assertThat(err).isEmpty();
    }

    @Test
    void fileSystemErrorExitsAbove127() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("-k", "no/such/dir/build.sh")).isEqualTo(128);
        assertThat(err).contains("cannot write buildscript");
    }

    @Test
    void selectorMatchingNothingExitsTwelve() {
        write(dir, "fabfile", SIMPLE, "in", "x\n");
        assertThat(fab("@nothing")).isEqualTo(12);
        assertThat(err).contains("selector `@nothing` matches nothing");
    }
}
