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
 * A {@code %} pattern over files another rule makes: the warm daemons, a fresh fabd on the built tree
 * ({@code -B}) and a build after the products are removed must read the same model, whatever the
 * products on disk when the fabfile is read.
 */
class PatternsMatchSourcesIT {
    private static final String FABFILE = """
            [ gen/%.c ] : [ defs/%.txt ] { cp $< $@ }
            $gens = [ defs/%.txt -> gen/%.c ]
            [ build/%.o ] : [ gen/%.c ] { cp $< $@ }
            $objs = [ gen/%.c -> build/%.o ]
            [ build/tables.a ] : [ $gens $objs ] { cat $^ > $@ }
            [ @all ] : [ build/tables.a ]
            """;

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

    Daemons.Run fabOk(String... args) throws Exception {
        return daemons.runOk(project, args);
    }

    @Test
    void patternOverProductsGivesTheSameModelWarmColdAndClean() throws Exception {
        Files.createDirectories(project.resolve("defs"));
        Files.writeString(project.resolve("defs/a.txt"), "red\n");
        Files.writeString(project.resolve("defs/b.txt"), "blue\n");
        Files.writeString(project.resolve("fabfile"), FABFILE);

        Daemons.Run first = fabOk();
        String tables = Files.readString(project.resolve("build/tables.a"));
        String warmNodes = fabOk("+q", "$!").out();
        assertThat(fabOk().out()).contains("nothing to do");

        // A fresh fabd reads the fabfile with gen/a.c and gen/b.c on disk: the same model, nothing to do.
        assertThat(fabOk("-B").out()).as("a cold load on the built tree").contains("nothing to do");
        assertThat(fabOk("+q", "$!").out()).isEqualTo(warmNodes);

        // Without the products, the same model again: the build succeeds and makes the same archive.
        deleteTree(project.resolve("build"));
        fabOk();
        assertThat(Files.readString(project.resolve("build/tables.a"))).isEqualTo(tables);
        assertThat(fabOk("+q", "$!").out()).isEqualTo(warmNodes);
        deleteTree(project.resolve("build"));
        deleteTree(project.resolve("gen"));
        assertThat(fabOk("-B").out()).doesNotContain("nothing to do");
        assertThat(Files.readString(project.resolve("build/tables.a"))).isEqualTo(tables);
        assertThat(fabOk("+q", "$!").out()).isEqualTo(warmNodes);

        assertThat(first.err()).as("the user is told the pattern leaves products out, and what to match instead")
                .contains("gen/%.c").contains("gen/a.c gen/b.c").contains("defs/%.txt");
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
