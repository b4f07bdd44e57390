package dev.fabric.fab.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A source saved after its command read it and before the command ended, when fab had no hash of it
 * yet: the first build of a tree, a header a depfile names for the first time, a new source. The
 * command itself saves the file once it has compiled it, so no timing is involved. The next fab
 * rebuilds (with the daemons kept, and with fresh ones), and the build ends as a cold one would.
 */
class SavedWhileItsCommandRunsIT {
    private static final String MAIN_WITH_V = "#include <stdio.h>\n#include \"v.h\"\nint main(void){printf(\"%d\\n\", V);return 0;}\n";

    @TempDir
    Path dir;
    Path project;
    Daemons daemons;

    @BeforeEach
    void setUp() throws IOException {
        project = Files.createDirectories(dir.resolve("project"));
        Files.createDirectories(project.resolve("src"));
        daemons = new Daemons(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        daemons.close();
    }

    Daemons.Run fabOk(String... args) throws Exception {
        return daemons.runOk(project, args);
    }

    String app() throws Exception {
        return Daemons.output(project.resolve("build/app"));
    }

    /**
     * A depfile rule whose command, once gcc read v.h, saves it with V 2: only when its source includes v.h, and
     * once (a command that always edits its source is never up to date).
     */
    private void depfileProject() throws IOException {
        Files.writeString(project.resolve("fabfile"), """
                [ build/%.o ] : [ src/%.c ] depfile [ build/%.d ] { gcc -MMD -MP -MF build/$*.d -c $< -o $@; if grep -q v.h $< && grep -q 'V 1' src/v.h; then echo '#define V 2' > src/v.h; fi }
                [ build/app ] : [ src/%.c -> build/%.o ] { gcc -o $@ $^ }
                """);
        Files.writeString(project.resolve("src/v.h"), "#define V 1\n");
    }

    /** After the racy build (app printing 1 while v.h says 2): the next fab rebuilds, then nothing is left to do. */
    private void rebuiltOnceThenUpToDate() throws Exception {
        assertThat(Files.readString(project.resolve("src/v.h"))).isEqualTo("#define V 2\n");
        assertThat(app()).isEqualTo("1");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(app()).isEqualTo("2");
        assertThat(fabOk().out()).contains("nothing to do");
        assertThat(fabOk("-B").out()).contains("nothing to do");
    }

    @Test
    void headerSavedDuringTheFirstBuildIsRebuilt() throws Exception {
        depfileProject();
        Files.writeString(project.resolve("src/main.c"), MAIN_WITH_V);
        // The daemons first, as in a tree where fab already ran: the build itself is a trusted one.
        fabOk("-p");
        fabOk();
        rebuiltOnceThenUpToDate();
    }

    @Test
    void headerSavedDuringTheFirstBuildIsRebuiltByFreshDaemons() throws Exception {
        depfileProject();
        Files.writeString(project.resolve("src/main.c"), MAIN_WITH_V);
        fabOk("-p");
        fabOk();
        fabOk("--shutdown");
        rebuiltOnceThenUpToDate();
    }

    @Test
    void newlyIncludedHeaderSavedWhileItsIncluderCompilesIsRebuilt() throws Exception {
        depfileProject();
        Files.writeString(project.resolve("src/main.c"), "#include <stdio.h>\nint main(void){printf(\"0\\n\");return 0;}\n");
        fabOk();
        assertThat(app()).isEqualTo("0");
        assertThat(Files.readString(project.resolve("src/v.h"))).isEqualTo("#define V 1\n");
        Files.writeString(project.resolve("src/main.c"), MAIN_WITH_V);
        fabOk();
        rebuiltOnceThenUpToDate();
    }

    @Test
    void sourceSavedDuringItsFirstCompileIsRebuilt() throws Exception {
        Files.writeString(project.resolve("fabfile"), """
                [ build/%.o ] : [ src/%.c ] { gcc -c $< -o $@; if grep -q 'return 1' $<; then sed -i 's/return 1/return 2/' $<; fi }
                [ build/app ] : [ src/%.c -> build/%.o ] { gcc -o $@ $^ }
                """);
        Files.writeString(project.resolve("src/main.c"), "int val(void);\nint main(void){return val() == 7 ? 0 : 1;}\n");
        Files.writeString(project.resolve("src/val0.c"), "int val(void){return 7;}\n");
        fabOk("-p");
        fabOk();
        // A new source a pattern picks up, saved (by rename: sed -i) after gcc read it.
        Files.delete(project.resolve("src/val0.c"));
        Files.writeString(project.resolve("src/val.c"), "int val(void){return 1;}\n");
        Files.writeString(project.resolve("src/main.c"), "#include <stdio.h>\nint val(void);\nint main(void){printf(\"%d\\n\", val());return 0;}\n");
        fabOk();
        assertThat(Files.readString(project.resolve("src/val.c"))).isEqualTo("int val(void){return 2;}\n");
        assertThat(app()).isEqualTo("1");
        assertThat(fabOk().out()).doesNotContain("nothing to do");
        assertThat(app()).isEqualTo("2");
        assertThat(fabOk().out()).contains("nothing to do");
    }
}
