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
 * Discovery through the daemons, with gcc: a generated header that no rule declares as a dependency
 * is built before the compile that includes it, an edited header rebuilds its includer, fabd keeps
 * each discovery in {@code dsc/<n>/}, {@code +d} lists the results, and output that is not make
 * syntax exits 8.
 */
class DiscoveryIT {
    private static final String FABFILE = """
            [ gen/version.h ] : [ VERSION ] { mkdir -p gen; echo "#define VERSION $$(cat VERSION)" > gen/version.h }
            discover [ src/%.c ] { cc -I. -MM -MG -MP $< }
            [ build/%.o ] : [ src/%.c ] { cc -I. -c $< -o $@ }
            $objs = [ src/%.c -> build/%.o ]
            [ build/app ] : [ $objs ] { cc -o $@ $^ }
            """;

    @TempDir
    Path dir;
    Path project;
    Daemons daemons;


    @BeforeEach
    void setUp() throws IOException {
        project = Files.createDirectories(dir.resolve("project"));
        daemons = new Daemons(dir);
        Files.writeString(project.resolve("fabfile"), FABFILE);
        Files.writeString(project.resolve("VERSION"), "7\n");
        Files.createDirectories(project.resolve("src"));
        Files.writeString(project.resolve("src/main.c"), """
                #include <stdio.h>
                #include "gen/version.h"
                #include "src/twice.h"
                int main(void) { printf("%d\\n", TWICE(VERSION)); return 0; }
                """);
        Files.writeString(project.resolve("src/twice.h"), "#define TWICE(x) (2 * (x))\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        daemons.close();
    }

    Daemons.Run fab(String... args) throws Exception {
        return daemons.run(project, args);
    }

    String app() throws Exception {
        return Daemons.output(project.resolve("build/app"));
    }

    @Test
    void generatedHeaderNoRuleDeclaresIsBuiltFirstAndHeadersRebuildTheirIncluders() throws Exception {
        Daemons.Run first = fab();
        assertThat(first.status()).as(first.out() + first.err()).isZero();
        assertThat(app()).isEqualTo("14");
        // The discovery's output is data (+d shows it), not command output.
        assertThat(first.out()).doesNotContain("main.o:");
        Path dsc = daemons.project().resolve("dsc");
        assertThat(Files.readString(dsc.resolve("1/cmd"))).contains("cc -I. -MM -MG -MP src/main.c");
        assertThat(Files.readString(dsc.resolve("1/out"))).contains("gen/version.h", "src/twice.h");

        Daemons.Run listed = fab("+d");
        assertThat(listed.status()).isZero();
        assertThat(listed.out()).contains("src/main.c: gen/version.h src/twice.h");

        assertThat(fab().out()).contains("nothing to do");
        Files.writeString(project.resolve("src/twice.h"), "#define TWICE(x) (x + x + 1)\n");
        Daemons.Run edited = fab();
        assertThat(edited.status()).as(edited.out() + edited.err()).isZero();
        assertThat(edited.out()).contains("build/main.o");
        assertThat(app()).isEqualTo("15");
        Files.writeString(project.resolve("VERSION"), "8\n");
        assertThat(fab().status()).isZero();
        assertThat(app()).isEqualTo("17");
    }

    @Test
    void buildscriptWithAKeptVariableRunsTheDiscoveryWithItsValue() throws Exception {
        Files.writeString(project.resolve("fabfile"), "$cc = [ cc ]\n" + FABFILE.replace("{ cc ", "{ $cc "));
        Daemons.Run r = fab("-k", "build.sh", "-K", "cc");
        assertThat(r.status()).as(r.out() + r.err()).isZero();
        assertThat(Files.readString(project.resolve("build.sh"))).contains("cc=${cc-", "${cc} -I. -c src/main.c -o build/main.o");
    }

    @Test
    void discoveryOutputThatIsNotMakeSyntaxExitsEight() throws Exception {
        Files.writeString(project.resolve("fabfile"), FABFILE.replace("cc -I. -MM -MG -MP $<", "echo no rules here"));
        Daemons.Run r = fab();
        assertThat(r.status()).isEqualTo(8);
        assertThat(r.err()).contains("discovery of src/main.c", "cc -MM -MG -MP");
    }
}
