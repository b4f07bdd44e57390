package dev.fabric.cli;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.registry.RegistryApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code spawn}, {@code stop} and {@code sessions} against a real fabric: the registry in this JVM
 * (H2 in a temporary directory) and the spawner jar as a process, spawning its members as
 * processes. Skipped when the spawner jar has not been built (spawner-service comes before
 * fabric-cli in a full build).
 */
class SpawnerCommandsIT {

    static final Path SPAWNER_JAR = Path.of("..", "spawner-service", "target", "spawner-service-exec.jar").toAbsolutePath().normalize();

    @TempDir
    static Path dir;

    private static ConfigurableApplicationContext registryContext;
    private static RegistryClient registry;
    private static Process spawner;
    private static Cli cli;

    @BeforeAll
    static void startFabric() throws Exception {
        assumeTrue(Files.exists(SPAWNER_JAR), SPAWNER_JAR + " is not built: build spawner-service first (./mvnw -pl spawner-service package)");
        Path keys = dir.resolve("keys");
        FabricKeys fabricKeys = FabricKeys.generate();
        fabricKeys.writeTo(keys);
        registryContext = new SpringApplicationBuilder(RegistryApplication.class).run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--fabric.registry.data-dir=" + dir.resolve("registry"),
                "--fabric.security.keys-path=" + keys);
        String registryUrl = "http://127.0.0.1:" + registryContext.getEnvironment().getProperty("local.server.port");
        registry = new RegistryClient(URI.create(registryUrl), fabricKeys, Duration.ofSeconds(10));

        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = dir.resolve("spawner.log");
        spawner = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", SPAWNER_JAR.toString(),
                "--server.port=" + port,
                "--fabric.spawner.data-dir=" + dir.resolve("spawner-data"),
                "--fabric.security.keys-path=" + keys,
                "--fabric.spawner.registry-url=" + registryUrl,
                "--fabric.spawner.stop-members-on-shutdown=true")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        awaitReady("http://127.0.0.1:" + port, log);

        // No $FABRIC_SPAWNER and no --spawner: the commands find the spawner in the registry.
        cli = new Cli(Map.of(FabricHome.HOME_ENV, dir.resolve("home").toString(), FabricHome.REGISTRY_ENV, registryUrl,
                FabricHome.KEYS_ENV, keys.toString()), dir, Clock.systemUTC());
    }

    private static void awaitReady(String url, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!spawner.isAlive()) {
                throw new IllegalStateException("the spawner exited with " + spawner.exitValue() + "; log:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(url + "/actuator/health/readiness"))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the spawner did not become ready in 90 s; log:\n" + Files.readString(log));
    }

    @AfterAll
    static void stopFabric() throws Exception {
        if (spawner != null && spawner.isAlive()) {
            spawner.destroy();
            spawner.waitFor(30, TimeUnit.SECONDS);
        }
        // Members outlive a spawner killed hard, on purpose: end any of this test's that are left.
        Path members = dir.resolve("spawner-data").resolve("members");
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("-Dfabric.member.id="))
                .filter(p -> workingDirectory(p).startsWith(members))
                .forEach(ProcessHandle::destroyForcibly);
        if (registryContext != null) {
            registryContext.close();
        }
    }

    private static Path workingDirectory(ProcessHandle process) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "cwd"));
        } catch (IOException | UnsupportedOperationException e) {
            return Path.of("/nonexistent");
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
