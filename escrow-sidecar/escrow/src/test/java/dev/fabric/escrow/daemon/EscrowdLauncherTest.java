package dev.fabric.escrow.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The class path and main class the launcher gives the daemon: this JVM's class path and {@link EscrowdProcess},
 * or, from a Spring Boot executable jar, that jar and Spring Boot's PropertiesLauncher told to start
 * {@link EscrowdProcess}; {@code escrow.daemon.classpath} wins over both.
 */
class EscrowdLauncherTest {

    private static final LaunchArguments CREAT = LaunchArguments.of(Path.of("/tmp/e.sock"), 3, false, false);

    @TempDir
    Path dir;

    @Test
    void fromASpringBootJarTheDaemonStartsThroughItsPropertiesLauncher() throws IOException {
        for (String launcher : List.of(EscrowdLauncher.SPRING_BOOT_JAR_LAUNCHER, EscrowdLauncher.SPRING_BOOT_PROPERTIES_LAUNCHER)) {
            String app = jarWithMainClass("app.jar", launcher).toString();

            assertThat(classPathToArguments(EscrowdLauncher.command(CREAT, null, null, app))).as(launcher).containsExactly("-cp", app,
                    "-Dloader.main=dev.fabric.escrow.daemon.EscrowdProcess", "org.springframework.boot.loader.launch.PropertiesLauncher");
        }
    }

    @Test
    void anyOtherClassPathGetsEscrowdProcessAsItsMainClass() throws IOException {
        String plainJar = jarWithMainClass("tool.jar", "com.example.Tool").toString();
        String noMainClass = jarWithMainClass("lib.jar", null).toString();
        String notAJar = Files.writeString(dir.resolve("not-a.jar"), "text").toString();
        String bootJarAndMore = jarWithMainClass("app.jar", EscrowdLauncher.SPRING_BOOT_JAR_LAUNCHER) + File.pathSeparator + plainJar;

        for (String classPath : List.of(plainJar, noMainClass, notAJar, bootJarAndMore, dir.toString(), dir.resolve("missing.jar").toString())) {
            assertThat(classPathToArguments(EscrowdLauncher.command(CREAT, null, null, classPath))).as(classPath)
                    .containsExactly("-cp", classPath, EscrowdLauncher.MAIN_CLASS);
        }
    }

    @Test
    void escrowDaemonClasspathWinsOverASpringBootJar() throws IOException {
        String app = jarWithMainClass("app.jar", EscrowdLauncher.SPRING_BOOT_JAR_LAUNCHER).toString();

        assertThat(classPathToArguments(EscrowdLauncher.command(CREAT, null, "/opt/escrow/lib/*", app)))
                .containsExactly("-cp", "/opt/escrow/lib/*", EscrowdLauncher.MAIN_CLASS);
    }

    /** From {@code -cp} up to the daemon's own arguments. */
    private static List<String> classPathToArguments(List<String> command) {
        return command.subList(command.indexOf("-cp"), command.size() - CREAT.toArgs().size());
    }

    private Path jarWithMainClass(String name, String mainClass) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (mainClass != null) {
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        }
        Path jar = dir.resolve(name);
        try (OutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        return jar;
    }
}
