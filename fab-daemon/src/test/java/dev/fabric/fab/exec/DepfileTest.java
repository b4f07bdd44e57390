package dev.fabric.fab.exec;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void lineWithoutARuleIsDscParse() {
        assertThatThrownBy(() -> Depfile.parse("x.d", "x.o: a.c\nwhat is this\n"))
                .hasMessage("depfile x.d:2: expected `target: dependencies`, found `what is this`")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.DSCPARSE);
    }
}
