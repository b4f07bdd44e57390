package dev.fabric.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
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

    @TempDir
    Path home;

    @Test
    void theRegistryAndTheSpawnerMapTheirCaches() throws Exception {
        FabricLauncher.assumeBuilt();
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs /proc");
        FabricLauncher fabric = new FabricLauncher(home, true);
        int[] ports = FabricLauncher.twoFreePorts();
        try {
            // The first up after a build makes the caches with training runs: minutes on a crowded machine.
            Process up = fabric.up(ports[0], ports[1]).start();
            assertThat(up.waitFor(15, TimeUnit.MINUTES)).as("./fabric up ended").isTrue();
            assertThat(up.exitValue()).as(Files.readString(fabric.errors("up"))).isZero();

            assertThat(mappings("registry")).as("the registry's mappings").contains("/registry.aot");
            assertThat(mappings("spawner")).as("the spawner's mappings").contains("/spawner.aot");
        } finally {
            fabric.down();
        }
    }

    private String mappings(String service) throws Exception {
        String pid = Files.readString(home.resolve("run").resolve(service + ".pid")).trim();
        return Files.readString(Path.of("/proc", pid, "maps"));
    }
}
