package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistryClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code spawn}, {@code stop} and {@code sessions} against a real fabric: the registry in this JVM
 * (H2 in a temporary directory) and the spawner jar as a process, spawning its members as
 * processes. Skipped when the spawner jar has not been built (spawner-service comes before
 * fabric-cli in a full build).
 */
class SpawnerCommandsIT {

    @TempDir
    static Path dir;

    private static LocalFabric fabric;
    private static RegistryClient registry;
    private static Cli cli;

    @BeforeAll
    static void startFabric() throws Exception {
        assumeTrue(Files.exists(LocalFabric.SPAWNER_JAR), LocalFabric.NOT_BUILT);
        fabric = LocalFabric.start(dir);
        registry = fabric.registry();
        cli = fabric.cli();
    }

    @AfterAll
    static void stopFabric() throws Exception {
        if (fabric != null) {
            fabric.close();
        }
    }

    @Test
    void aMembersLifeThroughTheCli() {
        Cli.Result spawn = cli.run("spawn", "queue", "--name", "orders", "--config", "visibility=30s", "--wait", "--timeout", "3m");
        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        String id = spawn.out().strip();
        assertThat(id).startsWith("queue-").doesNotContain("\n");
        assertThat(spawn.err()).as("the bootstrap's steps").contains("PENDING", "BOOTSTRAPPING", "RUNNING");
        assertThat(registry.get(id).state()).isEqualTo(InstanceState.RUNNING);
        assertThat(registry.get(id).name()).isEqualTo("orders");

        Cli.Result add = cli.run("sessions", "add", id, "s-cli");
        assertThat(add.exitCode()).as(add.err()).isZero();
        assertThat(add.out()).isEqualTo("added session s-cli to " + id + "\n");
        assertThat(cli.run("sessions", "add", id, "s-cli").out()).isEqualTo(id + " already serves session s-cli\n");

        Cli.Result show = cli.run("sessions", "show", "s-cli");
        assertThat(show.exitCode()).as(show.err()).isZero();
        assertThat(show.out().lines().toList()).satisfiesExactly(
                header -> assertThat(header).startsWith("ID").contains("STATE", "ENDPOINTS"),
                row -> assertThat(row).startsWith(id).contains("queue", "orders", "RUNNING", "management=http://"));
        JsonNode json = JsonMapper.builder().build().readTree(cli.run("sessions", "show", "s-cli", "-o", "json").out());
        assertThat(json.path("instances").findValuesAsString("id")).containsExactly(id);

        Cli.Result remove = cli.run("sessions", "remove", id, "s-cli");
        assertThat(remove.exitCode()).as(remove.err()).isZero();
        Cli.Result empty = cli.run("sessions", "show", "s-cli");
        assertThat(empty.out()).isEmpty();
        assertThat(empty.err()).contains("no member serves session s-cli");

        Cli.Result stop = cli.run("stop", id);
        assertThat(stop.exitCode()).as(stop.err()).isZero();
        assertThat(stop.out()).isEqualTo("stopped " + id + "\n");
        assertThat(registry.get(id).state()).isEqualTo(InstanceState.STOPPED);

        Cli.Result stopped = cli.run("sessions", "add", id, "s-cli");
        assertThat(stopped.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(stopped.err()).contains("member " + id + " is STOPPED", "only a running member takes session ids");
    }

    @Test
    void theSpawnersRefusalsAreUsageErrorsWithItsReason() {
        Cli.Result unknownRole = cli.run("spawn", "teapot");
        assertThat(unknownRole.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknownRole.out()).isEmpty();
        assertThat(unknownRole.err()).startsWith("fabric: ").contains("teapot", "(unknown-role, HTTP 400)");

        Cli.Result spliced = cli.run("spawn", "queue", "--connectivity", "SPLICED");
        assertThat(spliced.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(spliced.err()).contains("(unsupported-connectivity, HTTP 400)");

        Cli.Result badResources = cli.run("spawn", "queue", "--cpu", "lots");
        assertThat(badResources.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badResources.err()).contains("(invalid-resources, HTTP 400)");
    }

    @Test
    void anUnknownMemberIsNotFound() {
        for (List<String> args : List.of(List.of("stop", "queue-nosuch"), List.of("sessions", "add", "queue-nosuch", "s-1"))) {
            Cli.Result result = cli.run(args.toArray(String[]::new));
            assertThat(result.exitCode()).as("%s: %s", args, result.err()).isEqualTo(ExitCodes.NOT_FOUND);
            assertThat(result.err()).contains("queue-nosuch", "HTTP 404");
        }
    }
}
