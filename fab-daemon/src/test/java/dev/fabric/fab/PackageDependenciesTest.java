package dev.fabric.fab;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code cli/} is the top of fab: the command a user starts. Nothing else may name it, so the daemons
 * and the build they share ({@code build/}) never reach back into the command line's process.
 */
class PackageDependenciesTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/fabric/fab");

    @Test
    void onlyTheCommandLineNamesTheCommandLinePackage() throws IOException {
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                if (SOURCES.relativize(file).startsWith("cli")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).contains("dev.fabric.fab.cli.")) {
                        offenders.add(SOURCES.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertThat(offenders).as("code outside cli/ that names cli/").isEmpty();
    }
}
