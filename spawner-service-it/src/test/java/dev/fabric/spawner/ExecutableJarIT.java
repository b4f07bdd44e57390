package dev.fabric.spawner;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.jar.JarFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jar every member runs grants itself native access: an agent kills task trees through the FFM
 * API, and a JVM started without {@code --enable-native-access} warns on the first such call (a later
 * JDK refuses it). The process, SSH and image launchers all start it with {@code java -jar}, which
 * reads the grant from the manifest.
 */
class ExecutableJarIT {
    @Test
    void theMembersJarGrantsItselfNativeAccess() throws IOException {
        try (JarFile jar = new JarFile(FabricUnderTest.SPAWNER_JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Enable-Native-Access")).isEqualTo("ALL-UNNAMED");
        }
    }
}
