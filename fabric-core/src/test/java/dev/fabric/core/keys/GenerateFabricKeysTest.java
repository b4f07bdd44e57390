package dev.fabric.core.keys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class GenerateFabricKeysTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return GenerateFabricKeys.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void writesANewOwnerOnlyPairAndPrintsOnlyItsKeyId() throws Exception {
        Path keys = dir.resolve("keys");

        assertThat(run(keys.toString())).isZero();

        FabricKeys loaded = FabricKeys.load(keys);
        assertThat(out.toString(StandardCharsets.UTF_8).strip()).isEqualTo(loaded.keyId());
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("PRIVATE KEY").doesNotContain(loaded.privateKeyPem().lines().skip(1).findFirst().orElseThrow());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve(FabricKeys.PRIVATE_KEY_FILE)))).isEqualTo("rw-------");
    }

    @Test
    void anExistingPairIsNeverReplaced() throws Exception {
        FabricKeys existing = FabricKeys.generate();
        existing.writeTo(dir);

        assertThat(run(dir.toString())).isEqualTo(1);

        assertThat(err.toString(StandardCharsets.UTF_8)).contains("fabric keys already exist in " + dir).contains("not replacing them");
        assertThat(FabricKeys.load(dir).privateKeyPem()).isEqualTo(existing.privateKeyPem());
    }

    @Test
    void aMissingDirectoryArgumentShowsTheUsage() {
        assertThat(run()).isEqualTo(2);
        assertThat(run("a", "b")).isEqualTo(2);

        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: java -cp <jar with fabric-core> dev.fabric.core.keys.GenerateFabricKeys DIRECTORY");
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void aDirectoryThatCannotBeWrittenFailsWithTheReason() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");

        assertThat(run(file.resolve("keys").toString())).isEqualTo(1);

        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot write the fabric keys to " + file.resolve("keys"));
    }
}
