package dev.fabric.fab.exec;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.fabric.fab.Files2.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DepfileTest {

    @Test
    void readsWhatGccMmdMpWrites() {
        String gcc = """
                build/main.o: src/main.c src/util/strutil.h \\
                 greet/greet.h build/gen/version.h
                src/util/strutil.h:

                greet/greet.h:
                """;
        assertThat(Depfile.parse("main.d", gcc))
                .containsExactly("src/main.c", "src/util/strutil.h", "greet/greet.h", "build/gen/version.h");
    }

    @Test
    void escapedSpacesStayInOneName() {
        assertThat(Depfile.parse("d", "t: my\\ file.h other.h\n")).containsExactly("my file.h", "other.h");
    }

    @Test
    void pathsAreRelativeToTheFormulaDirectoryAndNamedFromTheRoot(@TempDir Path root) {
        write(root, "sub/x.d", "x.o: x.c ../inc/a.h\n");
        assertThat(Depfile.read(root, root.resolve("sub"), "sub/x.d")).containsExactly("sub/x.c", "inc/a.h");
    }

    @Test
    void lineWithoutARuleIsDscParseNamingTheLineWithoutQuotingIt() {
        assertThatThrownBy(() -> Depfile.parse("x.d", "x.o: a.c\nwhat is this\n"))
                .hasMessage("depfile x.d:2: expected `target: dependencies` (a line of 12 characters without a rule's colon)")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.DSCPARSE);
    }

    /** fabd reads depfiles as fabsys: a formula that links its depfile to another developer's file must not get it read back. */
    @Test
    void aDepfileLinkedToAnotherFileIsNotReadNorQuoted(@TempDir Path root) throws Exception {
        write(root, "elsewhere/secret", "the password is hunter2\n");
        Files.createSymbolicLink(root.resolve("x.d"), root.resolve("elsewhere/secret"));

        assertThatThrownBy(() -> Depfile.read(root, root, "x.d"))
                .hasMessageContaining("depfile x.d")
                .hasMessageContaining("symbolic link")
                .hasMessageNotContaining("hunter2")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.DSCPARSE);
    }

    @Test
    void aDepfileOfAnotherUidThanTheFormulasIsNotRead(@TempDir Path root) throws Exception {
        write(root, "x.d", "x.o: a.h\n");
        int owner = (int) Files.getAttribute(root.resolve("x.d"), "unix:uid");

        assertThat(Depfile.read(root, root, "x.d", owner)).containsExactly("a.h");
        assertThatThrownBy(() -> Depfile.read(root, root, "x.d", owner + 1))
                .hasMessageContaining("belongs to uid " + owner)
                .hasMessageNotContaining("a.h")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.DSCPARSE);
    }
}
