package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code spawn}, {@code stop} and {@code sessions} against a real fabric: the registry in this JVM
 * (H2 in a temporary directory) and the spawner jar as a process, spawning its members as
 * processes. Skipped when the spawner jar has not been built (spawner-service comes before
 * fabric-cli in a full build).
 */
class SpawnerCommandsIT {

    @RegisterExtension
    static final LocalFabric.PerClass fabric = new LocalFabric.PerClass();

    @Test
    void aMembersLifeThroughTheCli() {
        // A setting the role does not take is refused before anything is spawned, naming it and the role's settings.
        Cli.Result typo = fabric.cli().run("spawn", "queue", "--name", "orders", "--config", "visibility=30s", "--wait", "--timeout", "3m");
        assertThat(typo.exitCode()).as(typo.err()).isEqualTo(1);
        assertThat(typo.err()).contains("'visibility' is not a setting of role queue; its settings are [via]", "invalid-config");
        assertThat(typo.out()).isEmpty();

        Cli.Result spawn = fabric.cli().run("spawn", "queue", "--name", "orders", "--wait", "--timeout", "3m");
        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        String id = spawn.out().strip();
        assertThat(id).startsWith("queue-").doesNotContain("\n");
        assertThat(spawn.err()).as("the bootstrap's steps").contains("PENDING", "BOOTSTRAPPING", "RUNNING");
        assertThat(fabric.registry().get(id).state()).isEqualTo(InstanceState.RUNNING);
        assertThat(fabric.registry().get(id).name()).isEqualTo("orders");

        Cli.Result add = fabric.cli().run("sessions", "add", id, "s-cli");
        assertThat(add.exitCode()).as(add.err()).isZero();
        assertThat(add.out()).isEqualTo("added session s-cli to " + id + "\n");
        assertThat(fabric.cli().run("sessions", "add", id, "s-cli").out()).isEqualTo(id + " already serves session s-cli\n");

        Cli.Result show = fabric.cli().run("sessions", "show", "s-cli");
        assertThat(show.exitCode()).as(show.err()).isZero();
        assertThat(show.out().lines().toList()).satisfiesExactly(
                header -> assertThat(header).startsWith("ID").contains("STATE", "ENDPOINTS"),
                row -> assertThat(row).startsWith(id).contains("queue", "orders", "RUNNING", "management=http://"));
        JsonNode json = JsonMapper.builder().build().readTree(fabric.cli().run("sessions", "show", "s-cli", "-o", "json").out());
        assertThat(json.path("instances").findValuesAsString("id")).containsExactly(id);

        Cli.Result remove = fabric.cli().run("sessions", "remove", id, "s-cli");
        assertThat(remove.exitCode()).as(remove.err()).isZero();
        Cli.Result empty = fabric.cli().run("sessions", "show", "s-cli");
        assertThat(empty.out()).isEmpty();
        assertThat(empty.err()).contains("no member serves session s-cli");

        Cli.Result log = fabric.cli().run("log", id, "--bytes", "1048576");
        assertThat(log.exitCode()).as(log.err()).isZero();
        assertThat(log.out()).contains("incarnation 1 of " + id).endsWith("\n");
        Cli.Result tail = fabric.cli().run("log", id, "--bytes", "64", "-o", "json");
        assertThat(tail.exitCode()).as(tail.err()).isZero();
        JsonNode end = JsonMapper.builder().build().readTree(tail.out());
        assertThat(end.path("truncated").asBoolean()).isTrue();
        assertThat(end.path("size").asLong()).isGreaterThan(64);
        assertThat(end.path("file").asString()).endsWith("/members/" + id + "/member.log");
        assertThat(end.path("text").asString().length()).isLessThanOrEqualTo(64);
        for (String bytes : List.of("0", "1048577")) {
            Cli.Result badBytes = fabric.cli().run("log", id, "--bytes", bytes);
            assertThat(badBytes.exitCode()).as(badBytes.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(badBytes.out()).isEmpty();
            assertThat(badBytes.err()).contains("bytes must be 1 to 1048576", "(invalid-request, HTTP 400)");
        }

        // A restart: a new incarnation under the same id, followed until it runs; a second caller that saw incarnation 1 restarts nothing.
        Cli.Result restart = fabric.cli().run("restart", id, "--incarnation", "1", "--wait", "--timeout", "3m");
        assertThat(restart.exitCode()).as(restart.err()).isZero();
        assertThat(restart.out()).isEqualTo("restarted " + id + " as incarnation 2\n");
        assertThat(restart.err()).as("the new incarnation's steps").contains("PENDING", "RUNNING")
                .doesNotContain(spawn.err().lines().findFirst().orElseThrow());
        assertThat(fabric.registry().get(id).incarnation()).isEqualTo(2);
        assertThat(fabric.registry().get(id).state()).isEqualTo(InstanceState.RUNNING);
        Cli.Result again = fabric.cli().run("restart", id, "--incarnation", "1");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).isEqualTo(id + " is at incarnation 2 (RUNNING), not 1: not restarted\n");
        assertThat(fabric.registry().get(id).incarnation()).isEqualTo(2);

        Cli.Result stop = fabric.cli().run("stop", id);
        assertThat(stop.exitCode()).as(stop.err()).isZero();
        assertThat(stop.out()).isEqualTo("stopped " + id + "\n");
        assertThat(fabric.registry().get(id).state()).isEqualTo(InstanceState.STOPPED);

        Cli.Result stopped = fabric.cli().run("sessions", "add", id, "s-cli");
        assertThat(stopped.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(stopped.err()).contains("member " + id + " is STOPPED", "only a running member takes session ids");
        Cli.Result restartStopped = fabric.cli().run("restart", id);
        assertThat(restartStopped.exitCode()).as(restartStopped.err()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(restartStopped.out()).isEmpty();
        assertThat(restartStopped.err()).contains(id, "member-stopped");
        assertThat(fabric.registry().get(id).state()).isEqualTo(InstanceState.STOPPED);
    }

    @Test
    void servicesTreeShowsTheSpawnerOverTheMemberItSpawnedOverTheMemberThatOneSpawned() throws Exception {
        Cli.Result spawn = fabric.cli().run("spawn", "queue", "--wait", "--timeout", "3m");
        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        String a = spawn.out().strip();
        String spawnerId = fabric.registry().get(a).parentId();
        // A member takes the spawner's own spawn request on its management port.
        URI target = URI.create(fabric.registry().get(a).endpoints().get("management") + "/api/v1/spawns");
        byte[] body = "{\"type\":\"queue\"}".getBytes(StandardCharsets.UTF_8);
        HttpRequest.Builder request = HttpRequest.newBuilder(target).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        new RequestSigner(fabric.fabricKeys(), Clock.systemUTC()).sign("POST", target, Map.of(), body).forEach(request::header);
        HttpResponse<String> accepted = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String b = JsonMapper.builder().build().readTree(accepted.body()).path("id").asString();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (fabric.registry().get(b).state() != InstanceState.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(fabric.registry().get(b).state()).as(fabric.registry().history(b).toString()).isEqualTo(InstanceState.RUNNING);

        Cli.Result tree = fabric.cli().run("services", "--tree");
        assertThat(tree.exitCode()).as(tree.err()).isZero();
        List<String> lines = tree.out().lines().toList();
        int spawnerLine = indexOf(lines, spawnerId + " ");
        assertThat(lines.get(spawnerLine)).startsWith(spawnerId + " ");
        assertThat(lines).anySatisfy(line -> assertThat(line).startsWith("└─ " + a + " ").contains("RUNNING", spawnerId));
        assertThat(lines).anySatisfy(line -> assertThat(line).startsWith("   └─ " + b + " ").contains("RUNNING", a));
        assertThat(indexOf(lines, "└─ " + a + " ")).isGreaterThan(spawnerLine);
        assertThat(indexOf(lines, "   └─ " + b + " ")).isEqualTo(indexOf(lines, "└─ " + a + " ") + 1);
        // The JSON stays the registry's answer: the parentage is in it.
        JsonNode json = JsonMapper.builder().build().readTree(fabric.cli().run("services", "--tree", "-o", "json").out());
        assertThat(json.path("instances").findValuesAsString("parentId")).contains(spawnerId, a);

        // b's log comes from the node that supervises it: a, its parent.
        Cli.Result fromParent = fabric.cli().run("log", b, "--bytes", "1048576");
        assertThat(fromParent.exitCode()).as(fromParent.err()).isZero();
        assertThat(fromParent.out()).contains("incarnation 1 of " + b);
        assertThat(fromParent.err()).isEmpty();
    }

    private static int indexOf(List<String> lines, String containing) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(containing)) {
                return i;
            }
        }
        throw new AssertionError("no line contains '" + containing + "' in\n" + String.join("\n", lines));
    }

    @Test
    void theSpawnersRefusalsAreUsageErrorsWithItsReason() {
        Cli.Result unknownRole = fabric.cli().run("spawn", "teapot");
        assertThat(unknownRole.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknownRole.out()).isEmpty();
        assertThat(unknownRole.err()).startsWith("fabric: ").contains("teapot", "(unknown-role, HTTP 400)");

        Cli.Result badResources = fabric.cli().run("spawn", "queue", "--cpu", "lots");
        assertThat(badResources.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badResources.err()).contains("(invalid-resources, HTTP 400)");
    }

    @Test
    void anUnknownMemberIsNotFound() {
        for (List<String> args : List.of(List.of("stop", "queue-nosuch"), List.of("log", "queue-nosuch"), List.of("restart", "queue-nosuch"),
                List.of("sessions", "add", "queue-nosuch", "s-1"))) {
            Cli.Result result = fabric.cli().run(args.toArray(String[]::new));
            assertThat(result.exitCode()).as("%s: %s", args, result.err()).isEqualTo(ExitCodes.NOT_FOUND);
            assertThat(result.err()).contains("queue-nosuch", "HTTP 404");
        }
    }
}
