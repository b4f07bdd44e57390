package dev.fabric.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The repository's {@code ./fabric} run by a test, with a {@code FABRIC_HOME_DIR} of the test's own
 * and this JVM's Java; each command's output goes to {@code HOME/COMMAND.out} and {@code .err}.
 */
final class FabricLauncher {

    static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve("fabric");

    private final Path home;
    private final boolean aotCaches;

    /**
     * @param aotCaches whether {@code up} makes and uses the AOT caches; without them ({@code FABRIC_AOT=off})
     *                  no training runs (minutes on a crowded machine, after every build) come before the registry starts
     */
    FabricLauncher(Path home, boolean aotCaches) {
        this.home = home;
        this.aotCaches = aotCaches;
    }

    /** The fabric's home ({@code FABRIC_HOME_DIR}). */
    Path home() {
        return home;
    }

    /** Skips the calling test unless the jars {@code ./fabric up} starts are built (the whole build builds them). */
    static void assumeBuilt() {
        for (String jar : List.of("registry-service/target/registry-service-exec.jar", "spawner-service/target/spawner-service-exec.jar",
                "fabric-cli/target/fabric-cli.jar")) {
            assumeTrue(Files.exists(SCRIPT.getParent().resolve(jar)), jar + " is not built: run this test through the whole build (./fabric test)");
        }
    }

    /** The registry's and the spawner's ports for {@code up}: two ports that were free a moment ago. */
    static int[] twoFreePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }

    /** {@code ./fabric ARGUMENTS...}, ready to start. */
    ProcessBuilder command(String... arguments) {
        ProcessBuilder builder = new ProcessBuilder();
        builder.command().add(SCRIPT.toString());
        builder.command().addAll(List.of(arguments));
        builder.environment().put("FABRIC_HOME_DIR", home.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        if (aotCaches) {
            builder.environment().remove("FABRIC_AOT");
        } else {
            builder.environment().put("FABRIC_AOT", "off");
        }
        return builder.redirectOutput(output(arguments[0]).toFile()).redirectError(errors(arguments[0]).toFile());
    }

    /** {@code ./fabric up --port P --spawner-port S}, ready to start. */
    ProcessBuilder up(int port, int spawnerPort) {
        return command("up", "--port", Integer.toString(port), "--spawner-port", Integer.toString(spawnerPort));
    }

    Path output(String command) {
        return home.resolve(command + ".out");
    }

    Path errors(String command) {
        return home.resolve(command + ".err");
    }

    /**
     * The processes of this user whose {@code FABRIC_DATA_DIR} lies in this home's {@code data}: the
     * fabric's members (and its registry and spawner, whose data lie there too), as {@code down} finds them.
     */
    List<Long> processes() {
        String prefix = "FABRIC_DATA_DIR=" + home.resolve("data") + "/";
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> all = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path process : all) {
                try {
                    String environment = new String(Files.readAllBytes(process.resolve("environ")), StandardCharsets.UTF_8);
                    if (Arrays.stream(environment.split("\0")).anyMatch(variable -> variable.startsWith(prefix))) {
                        found.add(Long.parseLong(process.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException gone) {
                    // ended meanwhile, or not ours to read
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** {@code ./fabric down}: stops what {@code up} started under this home, if anything. */
    void down() throws IOException, InterruptedException {
        command("down").start().waitFor(60, TimeUnit.SECONDS);
    }
}
