package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.EscrowdConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.loader.tools.Library;
import org.springframework.boot.loader.tools.LibraryScope;
import org.springframework.boot.loader.tools.Repackager;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CREAT with the jars docs/escrow.md ("Depending on it") lists for a library user, and nothing else:
 * {@code escrow}, {@code fabric-posix}, {@code junixsocket-common}, {@code junixsocket-native-common}
 * and {@code slf4j-api}; no picocli (the CLI's), no SLF4J binding. A client JVM with exactly that class
 * path opens the escrow with CREAT; the escrowd it starts, with the same class path, serves it. The same client
 * and jars as a Spring Boot executable jar, made by Spring Boot's own {@link Repackager} and run with
 * {@code java -jar}: its class path is that one jar, the jars nested in it, and the escrowd CREAT starts finds its
 * main class there too.
 */
class CreatWithTheLibraryJarsIT {

    /** The documented library jars, by the start of their file names in the distribution's lib/. */
    static final List<String> LIBRARY_JARS = List.of("escrow-", "fabric-posix-", "junixsocket-common-", "junixsocket-native-common-",
            "slf4j-api-");

    static final String CLIENT = """
            import dev.fabric.escrow.client.Escrow;
            import java.nio.file.Path;

            public class CreatClient {
                public static void main(String[] args) throws Exception {
                    try (Escrow escrow = Escrow.open(Path.of(args[0]), Escrow.CREAT, 4)) {
                        escrow.add(3, 7, "creat".getBytes());
                        System.out.println("stored and got back: " + new String(escrow.get(3, 7).payload()));
                    }
                }
            }
            """;

    @TempDir
    Path dir;
    long daemonPid = -1;

    @AfterEach
    void stopTheDaemon() {
        if (daemonPid > 0) {
            ProcessHandle.of(daemonPid).ifPresent(daemon -> {
                daemon.destroy();
                daemon.onExit().join();
            });
        }
    }

    @Test
    void creatStartsAnEscrowdWithTheDocumentedLibraryJarsAlone() throws Exception {
        Path client = Files.writeString(dir.resolve("CreatClient.java"), CLIENT);
        // Single-file source launch: the class path is the jars alone, and the daemon CREAT starts gets the same.
        assertTheClientStoresAndGetsBack(List.of("-cp", String.join(File.pathSeparator, libraryJars()), client.toString()));
    }

    @Test
    void creatStartsAnEscrowdFromASpringBootExecutableJar() throws Exception {
        List<String> jars = libraryJars();
        Path source = Files.writeString(dir.resolve("CreatClient.java"), CLIENT);
        Path classes = dir.resolve("classes");
        runTool("javac", "-d", classes.toString(), "-cp", String.join(File.pathSeparator, jars), source.toString());
        Path plain = dir.resolve("creat-client.jar");
        runTool("jar", "--create", "--file", plain.toString(), "-C", classes.toString(), ".");
        Repackager repackager = new Repackager(plain.toFile());
        repackager.setMainClass("CreatClient");
        repackager.repackage(dir.resolve("app.jar").toFile(), callback -> {
            for (String jar : jars) {
                callback.library(new Library(new File(jar), LibraryScope.COMPILE));
            }
        });

        // As a Spring Boot service runs, from its directory: java.class.path is "app.jar", and no class of ours is at its top level.
        assertTheClientStoresAndGetsBack(List.of("-jar", "app.jar"));
    }

    /** Runs the client in {@link #dir} with the library's JVM options and these arguments (its class path and main), CREAT on a socket there. */
    private void assertTheClientStoresAndGetsBack(List<String> classPathAndMain) throws Exception {
        Path socket = dir.resolve("usock");
        Path log = dir.resolve("client.log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"));
        command.addAll(classPathAndMain);
        command.add(socket.toString());
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the client returns").isTrue();
        } finally {
            process.destroyForcibly();
        }
        if (Files.exists(EscrowdConfig.statsPath(socket))) {
            daemonPid = Escrow.stats(socket, false).pid();
        }
        String output = Files.readString(log);
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("stored and got back: creat").doesNotContain("NoClassDefFoundError");
        assertThat(daemonPid).as("the daemon CREAT started still serves").isPositive().isNotEqualTo(process.pid());
    }

    private static void runTool(String name, String... args) {
        assertThat(ToolProvider.findFirst(name).orElseThrow().run(System.out, System.err, args)).as(name + " " + String.join(" ", args)).isZero();
    }

    private static List<String> libraryJars() throws IOException {
        Path lib = Path.of(System.getProperty("escrow.dist"), "lib");
        List<String> jars = new ArrayList<>();
        for (String prefix : LIBRARY_JARS) {
            try (Stream<Path> files = Files.list(lib)) {
                List<Path> matching = files.filter(f -> f.getFileName().toString().startsWith(prefix)
                        && f.getFileName().toString().substring(prefix.length()).matches("[0-9].*\\.jar")).toList();
                assertThat(matching).as("one " + prefix + "*.jar in " + lib).hasSize(1);
                jars.add(matching.getFirst().toString());
            }
        }
        return jars;
    }
}
