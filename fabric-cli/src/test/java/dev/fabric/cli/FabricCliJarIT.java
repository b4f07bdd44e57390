package dev.fabric.cli;

import dev.fabric.core.keys.Ed25519;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The runnable jar {@code ./fabric} and users run, {@code target/fabric-cli.jar}, holds the fabric
 * library this build made, not those of an earlier build: a change to fabric-core alone leaves the
 * CLI's own classes as they were, and a jar that was not made again kept the old library inside it
 * (and made every {@code ./fabric up} build again, as its sources stayed newer than the jar).
 */
class FabricCliJarIT {

    private static final Path JAR = Path.of("target", "fabric-cli.jar");

    @Test
    void theRunnableJarHoldsTheFabricCoreThisBuildMade() throws Exception {
        Path built = Path.of(Ed25519.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String module = "fabric-core";

        List<String> stale = new ArrayList<>();
        int compared = 0;
        try (ZipFile cli = new ZipFile(JAR.toFile())) {
            ZipEntry nested = cli.stream()
                    .filter(e -> e.getName().startsWith("BOOT-INF/lib/" + module + "-"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(JAR + " holds no " + module + " jar"));
            try (JarInputStream inside = new JarInputStream(cli.getInputStream(nested))) {
                for (JarEntry entry; (entry = inside.getNextJarEntry()) != null; ) {
                    if (!entry.getName().endsWith(".class")) {
                        continue;
                    }
                    byte[] packaged = inside.readAllBytes();
                    byte[] current = classBytes(built, entry.getName());
                    compared++;
                    if (current == null || !Arrays.equals(packaged, current)) {
                        stale.add(entry.getName());
                    }
                }
            }
        }
        assertThat(compared).as("classes of %s in %s", module, JAR).isPositive();
        assertThat(stale).as("classes of %s in %s that differ from this build's (%s)", module, JAR, built).isEmpty();
    }

    /** A class's bytes as this build made them: from the module's jar, or its classes directory. */
    private static byte[] classBytes(Path built, String name) throws IOException {
        if (Files.isDirectory(built)) {
            Path file = built.resolve(name);
            return Files.exists(file) ? Files.readAllBytes(file) : null;
        }
        try (ZipFile jar = new ZipFile(built.toFile())) {
            ZipEntry entry = jar.getEntry(name);
            if (entry == null) {
                return null;
            }
            try (InputStream in = jar.getInputStream(entry)) {
                return in.readAllBytes();
            }
        }
    }
}
