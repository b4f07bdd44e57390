package dev.fabric.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The registry and the spawner that {@code ./fabric up} starts really use the AOT caches it made for
 * them (docs/operations.md, "The JDK's AOT cache"). A JVM refuses a cache whose training run had other
 * module options (such as {@code --enable-native-access}) and starts without it, unmapping the file,
 * so the check is the file in the running process's mappings, not a line in a log that is turned off.
 */
class FabricUpAotCacheIT {

    private static final Path LAUNCHER = Path.of(System.getProperty("user.dir")).getParent().resolve("fabric");

    @TempDir
    Path home;

    @Test
    void theRegistryAndTheSpawnerMapTheirCaches() throws Exception {
        Path root = LAUNCHER.getParent();
        for (String jar : List.of("registry-service/target/registry-service-exec.jar", "spawner-service/target/spawner-service-exec.jar",
                "fabric-cli/target/fabric-cli.jar")) {
            assumeTrue(Files.exists(root.resolve(jar)), jar + " is not built: run this test through the whole build (./fabric test)");
        }
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs /proc");
        int port;
        int spawnerPort;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            port = a.getLocalPort();
            spawnerPort = b.getLocalPort();
        }
        try {
            // The first up after a build makes the caches with training runs: minutes on a crowded machine.
            Process up = launcher("up", "--port", Integer.toString(port), "--spawner-port", Integer.toString(spawnerPort)).start();
            assertThat(up.waitFor(15, TimeUnit.MINUTES)).as("./fabric up ended").isTrue();
            assertThat(up.exitValue()).as(Files.readString(home.resolve("up.err"))).isZero();

            assertThat(mappings("registry")).as("the registry's mappings").contains("/registry.aot");
            assertThat(mappings("spawner")).as("the spawner's mappings").contains("/spawner.aot");
        } finally {
            launcher("down").start().waitFor(60, TimeUnit.SECONDS);
        }
    }

    private String mappings(String service) throws Exception {
        String pid = Files.readString(home.resolve("run").resolve(service + ".pid")).trim();
        return Files.readString(Path.of("/proc", pid, "maps"));
    }

    private ProcessBuilder launcher(String... arguments) {
        ProcessBuilder builder = new ProcessBuilder();
        builder.command().add(LAUNCHER.toString());
        builder.command().addAll(List.of(arguments));
        builder.environment().put("FABRIC_HOME_DIR", home.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("FABRIC_AOT");
        return builder.redirectOutput(home.resolve(arguments[0] + ".out").toFile()).redirectError(home.resolve(arguments[0] + ".err").toFile());
    }
}
