package dev.fabric.fab.daemon;

import dev.fabric.fab.ipc.IpcCodec;
import dev.fabric.fab.ipc.IpcRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The running daemons against the ways a file changes without an in-place write, and the results a
 * user reads from them: each case rebuilds exactly as a cold fab would, never "nothing to do".
 */
class DaemonSeesEveryChangeIT {
    @TempDir
    Path dir;
    Path project;
    Daemons daemons;


    @BeforeEach
    void setUp() throws IOException {
        project = Files.createDirectories(dir.resolve("project"));
        daemons = new Daemons(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        daemons.close();
    }

    Daemons.Run fab(String... args) throws Exception {
        return daemons.run(project, args);
    }

    Daemons.Run fabOk(String... args) throws Exception {
        return daemons.runOk(project, args);
    }

    void sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).directory(project.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(script + ": " + out).isZero();
    }

    @Test
    void fileReplacedByRenameIsRebuilt() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ out ] : [ a.c ] { cat a.c > out }\n");
        Files.writeString(project.resolve("a.c"), "x = 1\n");
        fabOk();
        assertThat(fabOk().out()).contains("nothing to do");
        sh("sed -i 's/x = 1/x = 2/' a.c");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("out"))).isEqualTo("x = 2\n");
        sh("printf 'x = 3\\n' > a.new && mv a.new a.c");
        fabOk();
        assertThat(Files.readString(project.resolve("out"))).isEqualTo("x = 3\n");
    }

    @Test
    void editAfterABuildThatMadeAFileTheGraphDoesNotKnowIsRebuilt() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ build/a.o ] : [ a.c ] { cat a.c > build/a.tmp && mv build/a.tmp build/a.o }\n");
        Files.writeString(project.resolve("a.c"), "int a;\n");
        fabOk();
        fabOk();
        sh("echo '/*1*/' >> a.c");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        sh("echo '/*2*/' >> a.c");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("build/a.o"))).isEqualTo("int a;\n/*1*/\n/*2*/\n");
        // What the daemons saved is what a fresh fabd plans from: nothing left to do.
        assertThat(fabOk("-B").out()).contains("nothing to do");
    }

    @Test
    void aTemporaryRenamedIntoPlaceKeepsTheModelAndAnEditIsStillRebuilt() throws Exception {
        // ar, and every write-then-rename step: the temporary appears and is gone before fabd looks.
        Files.writeString(project.resolve("fabfile"), "[ build/a.o ] : [ a.c ] { cat a.c > build/a.tmp && mv build/a.tmp build/a.o }\n");
        Files.writeString(project.resolve("a.c"), "int a;\n");
        fabOk();
        sh("echo '/*1*/' >> a.c");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        Daemons.Run noop = fabOk("+IPC");
        assertThat(noop.out()).contains("nothing to do", "graph kept in memory").doesNotContain("interpreted again");
        sh("echo '/*2*/' >> a.c");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("build/a.o"))).isEqualTo("int a;\n/*1*/\n/*2*/\n");
        // A file that stays is a file a pattern may match: the fabfiles are read again.
        Files.writeString(project.resolve("b.c"), "int b;\n");
        assertThat(fabOk("+IPC").out()).contains("fabd: interpreting the fabfiles");
    }

    @Test
    void copyKeepingSizeAndModificationTimeIsRebuilt() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ out ] : [ a.c ] { cat a.c > out }\n");
        Files.writeString(project.resolve("a.c"), "one\n");
        Files.writeString(project.resolve("b.c"), "two\n");
        sh("touch -r a.c b.c");
        fabOk();
        sh("cp -p b.c a.c");
        fabOk();
        assertThat(Files.readString(project.resolve("out"))).isEqualTo("two\n");
    }

    @Test
    void symbolicLinkRetargetedOrItsTargetEditedIsRebuilt() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ out ] : [ a.c ] { cat a.c > out }\n");
        Files.createDirectories(project.resolve("alt"));
        Files.writeString(project.resolve("alt/one"), "one\n");
        Files.writeString(project.resolve("alt/two"), "two\n");
        Files.createSymbolicLink(project.resolve("a.c"), Path.of("alt/one"));
        fabOk();
        sh("echo more >> alt/one");
        fabOk();
        assertThat(Files.readString(project.resolve("out"))).isEqualTo("one\nmore\n");
        sh("ln -sfn alt/two a.c");
        fabOk();
        assertThat(Files.readString(project.resolve("out"))).isEqualTo("two\n");
    }

    @Test
    void ruleWithoutFormulaOrdersAndRebuildsThroughTheDaemons() throws Exception {
        Files.writeString(project.resolve("fabfile"), """
                [ gen.h ] : [ ] { sleep 1; echo '#define X 1' > gen.h }
                [ build/a.o ] : [ src/a.c ] { cat src/a.c gen.h src/config.h > build/a.o }
                [ build/a.o ] : [ gen.h src/config.h ]
                """);
        Files.createDirectories(project.resolve("src"));
        Files.writeString(project.resolve("src/a.c"), "a\n");
        Files.writeString(project.resolve("src/config.h"), "c1\n");
        Daemons.Run plan = fabOk("-p");
        assertThat(plan.out()).contains("stage 1/2", "stage 2/2");
        fabOk();
        Files.writeString(project.resolve("src/config.h"), "c2\n");
        fabOk();
        assertThat(Files.readString(project.resolve("build/a.o"))).isEqualTo("a\n#define X 1\nc2\n");
    }

    @Test
    void failingLineFailsTheFormulaThroughTheDaemons() throws Exception {
        Files.writeString(project.resolve("fabfile"), """
                [ out.txt ] : [ ] {
                  false
                  echo made > out.txt
                }
                """);
        assertThat(fab().status()).isEqualTo(7);
        assertThat(project.resolve("out.txt")).doesNotExist();
    }

    @Test
    void errorFileAlwaysHoldsTheLastErrorCode() throws Exception {
        Files.writeString(project.resolve("fabfile"), "[ out ] : [ ] { echo ok > out }\n");
        fabOk();
        Path error = daemons.project().resolve("fabd/error");
        assertThat(error).isRegularFile();
        assertThat(IpcCodec.decode(IpcRecord.Error.class, Files.readAllBytes(error), error.toString()).code()).isZero();
        Files.writeString(project.resolve("fabfile"), "[ bad ] : [ ] { exit 3 }\n");
        assertThat(fab().status()).isEqualTo(7);
        assertThat(IpcCodec.decode(IpcRecord.Error.class, Files.readAllBytes(error), error.toString()).code()).isEqualTo(7);
        Files.writeString(project.resolve("fabfile"), "[ out ] : [ ] { echo ok > out }\n");
        Daemons.Run ok = fabOk();
        assertThat(ok.err()).doesNotContain("fab: ");
        assertThat(IpcCodec.decode(IpcRecord.Error.class, Files.readAllBytes(error), error.toString()).code()).isZero();
    }

    @Test
    void targetRemovedBetweenNoOpsIsRebuilt() throws Exception {
        // A no-op takes targets it has seen as there without a stat: the watcher's report of a removal must undo that.
        Files.writeString(project.resolve("fabfile"), "[ build/out ] : [ a.c ] { cat a.c > build/out }\n");
        Files.writeString(project.resolve("a.c"), "one\n");
        fabOk();
        assertThat(fabOk().out()).contains("nothing to do");
        assertThat(fabOk().out()).contains("nothing to do");
        Files.delete(project.resolve("build/out"));
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("build/out"))).isEqualTo("one\n");
        assertThat(fabOk().out()).contains("nothing to do");
        // The directory that holds it, removed or renamed away: reported under the directory's name only.
        sh("mv build gone");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("build/out"))).isEqualTo("one\n");
    }

    @Test
    void sourceInADirectoryTheWatcherSkipsIsRebuilt() throws Exception {
        // .git (and .fab) are not watched: a source in them is looked at by every build, never vouched for.
        Files.createDirectories(project.resolve(".git"));
        Files.writeString(project.resolve(".git/HEAD"), "ref: one\n");
        Files.writeString(project.resolve("fabfile"), "[ version.h ] : [ .git/HEAD ] { cat .git/HEAD > version.h }\n");
        fabOk();
        assertThat(fabOk().out()).contains("nothing to do");
        Files.writeString(project.resolve(".git/HEAD"), "ref: two, longer\n");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("version.h"))).isEqualTo("ref: two, longer\n");
    }
}
