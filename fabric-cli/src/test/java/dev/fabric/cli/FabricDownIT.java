package dev.fabric.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code ./fabric down} stops the members of its fabric that their spawners left running (a member's
 * own members when that member was stopped first, a killed spawner's), and no other process: stand-ins
 * carry a member's environment, as the launcher gives it, and one the registry's, without a fabric running.
 */
class FabricDownIT {

    @TempDir
    Path home;

    @TempDir
    Path elsewhere;

    @Test
    void downStopsTheMembersOfItsFabricLeftRunningAndNothingElse() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs /proc");
        FabricLauncher fabric = new FabricLauncher(home, false);
        Process agent = standIn(home.resolve("data/spawner/members/pilot-manager-1a2b3c4d/data/members/agent-5e6f7a8b/data"),
                "agent-5e6f7a8b", "exec sleep 600");
        // One that ignores SIGTERM: killed once its 20 s are up.
        Process queue = standIn(home.resolve("data/spawner/members/pilot-manager-1a2b3c4d/data/members/queue-9c0d1e2f/data"),
                "queue-9c0d1e2f", "trap '' TERM; exec sleep 600");
        Process otherFabrics = standIn(elsewhere.resolve("data/spawner/members/queue-31415926/data"), "queue-31415926", "exec sleep 600");
        // The registry's data lie in the same place: it is stopped as the registry, not reported as a member left running.
        Process registry = standIn(home.resolve("data/registry"), null, "exec sleep 600");
        Files.createDirectories(home.resolve("run"));
        Files.writeString(home.resolve("run/registry.pid"), registry.pid() + "\n");
        try {
            assertThat(fabric.processes()).contains(agent.pid(), queue.pid()).doesNotContain(otherFabrics.pid());

            Process down = fabric.command("down").start();
            assertThat(down.waitFor(2, TimeUnit.MINUTES)).as("./fabric down ended").isTrue();
            String out = Files.readString(fabric.output("down"), StandardCharsets.UTF_8);
            assertThat(down.exitValue()).as(out + Files.readString(fabric.errors("down"))).isZero();

            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as("the agent stand-in was stopped").isTrue();
            assertThat(queue.waitFor(30, TimeUnit.SECONDS)).as("the stand-in that ignores SIGTERM was killed").isTrue();
            assertThat(fabric.processes()).isEmpty();
            assertThat(out).contains("their spawners had left running", "agent-5e6f7a8b (pid " + agent.pid() + ")",
                    "queue-9c0d1e2f (pid " + queue.pid() + ")");
            assertThat(otherFabrics.isAlive()).as("another fabric's member is left alone").isTrue();
            assertThat(registry.waitFor(30, TimeUnit.SECONDS)).as("the registry was stopped").isTrue();
            assertThat(out).contains("registry (pid " + registry.pid() + ") stopped").doesNotContain("(pid " + registry.pid() + "),",
                    "pid-" + registry.pid());
        } finally {
            registry.destroyForcibly();
            agent.destroyForcibly();
            queue.destroyForcibly();
            otherFabrics.destroyForcibly();
        }
    }

    private static Process standIn(Path dataDir, String id, String script) throws Exception {
        Files.createDirectories(dataDir);
        ProcessBuilder builder = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("FABRIC_DATA_DIR", dataDir.toString());
        if (id != null) {
            builder.environment().put("FABRIC_SERVICE_ID", id);
        }
        return builder.start();
    }
}
