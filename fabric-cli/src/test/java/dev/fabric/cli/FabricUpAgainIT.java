package dev.fabric.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./fabric up} after this fabric's registry was killed, its spawner still running (README: {@code ./fabric status}
 * says "start it with ./fabric up"): the registry starts again where the spawner looks for it, and the spawner, its
 * own and no other fabric's, is left running. Before, {@code up} took the spawner's port for another fabric's and
 * refused; the only ways back stopped every member. {@code ./fabric status} answers each step with the exit status the
 * README gives: 0 both ready, 1 the registry not running, 3 once down.
 */
class FabricUpAgainIT {

    @TempDir
    Path home;

    @Test
    void aKilledRegistryStartsAgainBesideItsRunningSpawner() throws Exception {
        FabricLauncher.assumeBuilt();
        FabricLauncher fabric = new FabricLauncher(home, false);
        int[] ports = FabricLauncher.twoFreePorts();
        try {
            assertThat(run(fabric.up(ports[0], ports[1]))).as("the first up").isZero();
            assertThat(run(fabric.command("status"))).as("status with both ready").isZero();
            assertThat(Files.readString(fabric.output("status"))).contains("registry", "spawner", "ready").doesNotContain("not running");
            long spawner = pid("spawner");
            ProcessHandle registry = ProcessHandle.of(pid("registry")).orElseThrow();
            registry.destroyForcibly();
            registry.onExit().get(30, TimeUnit.SECONDS);
            // status, as the README says: 1 with what is not running and how to start it.
            assertThat(run(fabric.command("status"))).as("status with the registry killed").isEqualTo(1);
            assertThat(Files.readString(fabric.output("status"))).contains("registry   not running (start it with FABRIC_HOME_DIR=" + fabric.home() + " ./fabric up)");

            // Another registry port than the spawner's: refused, saying where the spawner looks.
            assertThat(run(fabric.up(ports[0] + 1, ports[1]))).isEqualTo(1);
            assertThat(Files.readString(fabric.errors("up"))).contains("looks for its registry at http://127.0.0.1:" + ports[0]);

            assertThat(run(fabric.up(ports[0], ports[1]))).as(Files.readString(fabric.errors("up"))).isZero();
            // The test's fabric has a home of its own: what up suggests acts on it when copied as printed.
            assertThat(Files.readString(fabric.output("up"))).contains("fabric is up.")
                    .contains("Stop:   FABRIC_HOME_DIR=" + fabric.home() + " ./fabric down");
            assertThat(pid("spawner")).as("the same spawner").isEqualTo(spawner);
            assertThat(pid("registry")).isNotEqualTo(registry.pid());
            assertThat(ProcessHandle.of(pid("registry")).map(ProcessHandle::isAlive)).hasValue(true);
        } finally {
            fabric.down();
        }
        assertThat(run(fabric.command("status"))).as("status once down").isEqualTo(3);
        assertThat(Files.readString(fabric.output("status"))).contains("registry   not running", "spawner    not running");
    }

    private static int run(ProcessBuilder command) throws Exception {
        Process process = command.start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("./fabric " + command.command().get(1) + " did not end within 180 s");
        }
        return process.exitValue();
    }

    private long pid(String service) throws Exception {
        return Long.parseLong(Files.readString(home.resolve("run/" + service + ".pid")).strip());
    }
}
