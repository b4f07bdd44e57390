package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Staging copies one file: a member on another host starts from the Spring Boot jar alone, never from
 * the jar {@code -Djarmode=tools extract} makes for the AOT cache, whose libraries are files beside it.
 */
class SelfContainedDistributionTest {

    @Test
    void theSpringBootJarIsStaged(@TempDir Path dir) throws IOException {
        Path fat = bootJar(dir.resolve("spawner-service-exec.jar"));

        assertThat(new Staging(fat, () -> { throw new AssertionError("no runtime is packed"); }).checksum())
                .isEqualTo(Staging.sha256(fat));
    }

    @Test
    void theExtractedJarIsRefusedWithTheSettingToUse(@TempDir Path dir) throws IOException {
        Path thin = extractedJar(dir.resolve("aot/spawner-0123/app/spawner-service-exec.jar"));

        assertThatThrownBy(() -> new Staging(thin, () -> { throw new AssertionError("no runtime is packed"); }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(thin.toString())
                .hasMessageContaining("not self-contained")
                .hasMessageContaining("lib/fabric-core.jar")
                .hasMessageContaining("set fabric.spawner.ssh.distribution to the runnable spawner-service-exec.jar");
    }

    @Test
    void aJarWithoutItsLibrariesIsRefused(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("spawner-service.jar");
        writeJar(plain, new Manifest(), "dev/fabric/spawner/SpawnerApplication.class");

        assertThatThrownBy(() -> Staging.selfContained(plain)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no Spring Boot executable jar").hasMessageContaining("fabric.spawner.ssh.distribution");
    }

    /** The SSH spawn fails before any connection, saying which jar and what to set, instead of a ClassNotFound on the host. */
    @Test
    void anSshSpawnFromTheExtractedJarFailsWithTheSettingToUse(@TempDir Path dir) throws IOException {
        Path thin = extractedJar(dir.resolve("app/spawner-service-exec.jar"));
        SshLauncherProperties.Host head = new SshLauncherProperties.Host("192.0.2.1", 22, "fabric", dir.resolve("id"), dir.resolve("kh"),
                HostKeyPolicy.STRICT, "java", "fabric", "", "", "47100-47999", List.of(), false);
        SshLauncherProperties settings = new SshLauncherProperties(Map.of("head", head), "", Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(1), "");
        LaunchSpec spec = new LaunchSpec("queue-1", 1, "queue", Connectivity.DIRECT, Resources.DEFAULT, Map.of(),
                OneTimePassword.of("s3cr3t-one-time-password-of-43-characters-x"), "head");

        try (SshLauncher launcher = new SshLauncher(settings, () -> thin)) {
            assertThatThrownBy(() -> launcher.launch(spec)).isInstanceOf(LaunchException.class)
                    .hasMessageContaining("no member distribution to stage")
                    .hasMessageContaining(thin + " is not self-contained")
                    .hasMessageContaining("fabric.spawner.ssh.distribution");
        }
    }

    /** A jar as spring-boot-maven-plugin repackages it: the loader, the application and its libraries inside. */
    static Path bootJar(Path file) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Main-Class", "org.springframework.boot.loader.launch.JarLauncher");
        manifest.getMainAttributes().putValue("Start-Class", "dev.fabric.spawner.SpawnerApplication");
        manifest.getMainAttributes().putValue("Spring-Boot-Classes", "BOOT-INF/classes/");
        manifest.getMainAttributes().putValue("Spring-Boot-Lib", "BOOT-INF/lib/");
        return writeJar(file, manifest, "BOOT-INF/classes/dev/fabric/spawner/SpawnerApplication.class", "BOOT-INF/lib/fabric-core.jar");
    }

    /** A jar as {@code -Djarmode=tools extract} makes it: the application's classes, its libraries in lib/ beside it. */
    static Path extractedJar(Path file) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Main-Class", "dev.fabric.spawner.SpawnerApplication");
        manifest.getMainAttributes().putValue("Spring-Boot-Version", "4.0.8");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/fabric-core.jar lib/slf4j-api.jar");
        return writeJar(file, manifest, "dev/fabric/spawner/SpawnerApplication.class");
    }

    private static Path writeJar(Path file, Manifest manifest, String... entries) throws IOException {
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            for (String entry : entries) {
                jar.putNextEntry(new JarEntry(entry));
                jar.write(new byte[] {1, 2, 3});
                jar.closeEntry();
            }
        }
        return file;
    }
}
