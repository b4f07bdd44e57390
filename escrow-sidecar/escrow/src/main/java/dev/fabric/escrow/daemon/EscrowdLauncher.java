package dev.fabric.escrow.daemon;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Starts escrowd as a separate, detached {@code java} process, the way the C client forks a
 * daemon for {@code ESCROW_CREAT}: the same java binary and class path as this JVM, and
 * {@link EscrowdProcess} as the main class, which starts its own session (setsid) and outlives the
 * process that started it. The launcher writes the daemon's arguments itself ({@link LaunchArguments}),
 * so the daemon needs no picocli: a library user's class path is enough.
 * <p>
 * A Spring Boot executable jar ({@code java -jar app.jar}) is a class path of one jar whose own classes
 * and libraries are nested in it, where {@code java} cannot see them; Spring Boot's loader, at the top of
 * that jar, can. So when the class path is one jar whose {@code Main-Class} is Spring Boot's
 * {@value #SPRING_BOOT_JAR_LAUNCHER} or {@value #SPRING_BOOT_PROPERTIES_LAUNCHER}, the daemon starts the
 * way Spring Boot documents for another main class of such a jar: {@code java -cp app.jar
 * -Dloader.main=}{@value #MAIN_CLASS} {@value #SPRING_BOOT_PROPERTIES_LAUNCHER}. Nothing of Spring Boot
 * is needed here: the loader is the application jar's own.
 * <p>
 * System properties: {@code escrow.daemon.java} (java binary), {@code escrow.daemon.classpath} (the
 * daemon's class path, with {@value #MAIN_CLASS} as its main class, even in a Spring Boot jar),
 * {@code escrow.daemon.log} (append the daemon's output to this file; default: inherit ours, as
 * the C daemon keeps its parent's stdio). The environment's {@value #JAVA_OPTS} (the JVM options
 * {@code bin/escrow} passes) reach the daemon's JVM too, split at white space as the script does.
 */
public final class EscrowdLauncher {

    public static final String MAIN_CLASS = "dev.fabric.escrow.daemon.EscrowdProcess";
    /** The launchers of a Spring Boot executable jar (Spring Boot 3.2 and later), as its manifest names them. */
    static final String SPRING_BOOT_JAR_LAUNCHER = "org.springframework.boot.loader.launch.JarLauncher";
    static final String SPRING_BOOT_PROPERTIES_LAUNCHER = "org.springframework.boot.loader.launch.PropertiesLauncher";
    /** escrowd's JVM options, the same file the distribution has as {@code conf/escrowd-jvm.options}. */
    static final String JVM_OPTIONS_RESOURCE = "escrowd-jvm.options";

    /**
     * The daemon's JVM options, one per line of {@value #JVM_OPTIONS_RESOURCE} (comments and blank
     * lines left out): the one list that {@code bin/escrow daemon}, {@code bin/escrow sidecar} (the
     * sidecar image) and this launcher use, and that the memory benchmark measures (issue 17,
     * {@code docs/benchmarks.md}).
     */
    public static List<String> jvmOptions() {
        try (InputStream in = EscrowdLauncher.class.getResourceAsStream(JVM_OPTIONS_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the escrow jar has no " + JVM_OPTIONS_RESOURCE + " next to " + EscrowdLauncher.class.getName()
                        + ": rebuild it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(line -> line.replaceFirst("#.*", "").strip())
                    .filter(line -> !line.isEmpty())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + JVM_OPTIONS_RESOURCE + " from the escrow jar", e);
        }
    }

    /** The environment variable with extra JVM options, as {@code bin/escrow} reads it. */
    public static final String JAVA_OPTS = "ESCROW_JAVA_OPTS";

    private EscrowdLauncher() {
    }

    /**
     * A daemon started: its process, and the file its output goes to (its own {@link LaunchArguments#logFile},
     * or {@code escrow.daemon.log}), or null when it shares this process's stdout and stderr.
     */
    public record Spawned(Process process, Path output) {
    }

    /** Starts the daemon process and returns at once; the caller waits for the socket to answer. */
    public static Spawned spawn(LaunchArguments launch) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command(launch, System.getenv(JAVA_OPTS)));
        builder.redirectInput(Redirect.from(new File("/dev/null")));
        String log = System.getProperty("escrow.daemon.log");
        Path output;
        if (launch.logFile() != null) {
            // The daemon opens its own log (never through a link) and makes it its stdout and
            // stderr; nothing of the caller's stays open in it, so `pid=$(escrow daemon -d PATH)` returns.
            builder.redirectOutput(Redirect.DISCARD);
            builder.redirectError(Redirect.DISCARD);
            output = launch.logFile();
        } else if (log != null && !log.isBlank()) {
            builder.redirectOutput(Redirect.appendTo(new File(log)));
            builder.redirectErrorStream(true);
            output = Path.of(log);
        } else {
            builder.redirectOutput(Redirect.INHERIT);
            builder.redirectError(Redirect.INHERIT);
            output = null;
        }
        return new Spawned(builder.start(), output);
    }

    static List<String> command(LaunchArguments launch, String javaOpts) {
        return command(launch, javaOpts, System.getProperty("escrow.daemon.classpath"), System.getProperty("java.class.path"));
    }

    /**
     * The daemon's command line, with {@code configuredClassPath} ({@code escrow.daemon.classpath}, or null)
     * and {@code ownClassPath} (this JVM's) given, so that a test need not change this JVM's.
     */
    static List<String> command(LaunchArguments launch, String javaOpts, String configuredClassPath, String ownClassPath) {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(jvmOptions());
        if (javaOpts != null && !javaOpts.isBlank()) {
            command.addAll(List.of(javaOpts.trim().split("\\s+")));
        }
        command.add("-cp");
        if (configuredClassPath == null && isSpringBootJar(ownClassPath)) {
            command.add(ownClassPath);
            command.add("-Dloader.main=" + MAIN_CLASS);
            command.add(SPRING_BOOT_PROPERTIES_LAUNCHER);
        } else {
            command.add(configuredClassPath != null ? configuredClassPath : ownClassPath);
            command.add(MAIN_CLASS);
        }
        command.addAll(launch.toArgs());
        return command;
    }

    /** Whether {@code classPath} is one jar that Spring Boot's loader starts (a jar it cannot read is not). */
    static boolean isSpringBootJar(String classPath) {
        if (classPath == null || classPath.isEmpty() || classPath.contains(File.pathSeparator) || !new File(classPath).isFile()) {
            return false;
        }
        try (JarFile jar = new JarFile(classPath)) {
            Manifest manifest = jar.getManifest();
            String main = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
            return SPRING_BOOT_JAR_LAUNCHER.equals(main) || SPRING_BOOT_PROPERTIES_LAUNCHER.equals(main);
        } catch (IOException e) {
            return false;
        }
    }

    static String javaBinary() {
        String configured = System.getProperty("escrow.daemon.java");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        return ProcessHandle.current().info().command()
                .filter(c -> c.endsWith("/java"))
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
