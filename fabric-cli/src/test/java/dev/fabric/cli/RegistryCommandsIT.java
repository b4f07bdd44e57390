package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.registry.RegistryApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The CLI against the real registry, started in-process on a random port with H2 in a temporary
 * directory: what {@code services}, {@code service}, {@code watch} print, and how each class of
 * failure ends.
 */
class RegistryCommandsIT {

    @TempDir
    static Path dir;

    private static ConfigurableApplicationContext registry;
    private static String url;
    private static Path keys;
    private static RestClient member;
    private static Cli cli;

    @BeforeAll
    static void startRegistry() {
        keys = dir.resolve("keys");
        FabricKeys fabricKeys = FabricKeys.generate();
        fabricKeys.writeTo(keys);
        // Command-line arguments: the registry's application.yaml would override default properties.
        registry = new SpringApplicationBuilder(RegistryApplication.class).run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--fabric.registry.data-dir=" + dir.resolve("data"),
                "--fabric.security.keys-path=" + keys,
                // No member heartbeats here: keep the failure detector from moving the instances mid-test.
                "--fabric.registry.heartbeat.interval=1h",
                "--fabric.registry.watch.poll-interval=50ms");
        url = "http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port");
        member = FabricRestClients.signed(fabricKeys, Duration.ofSeconds(5), Duration.ofSeconds(30)).baseUrl(url).build();

        register("""
                {"id": "web-1", "type": "web", "name": "frontend", "parentId": "spawner-1",
                 "endpoints": {"management": "http://127.0.0.1:9001", "service": "http://127.0.0.1:8081"}}""");
        register("""
                {"id": "db-1", "type": "db", "state": "PENDING", "endpoints": {"management": "http://127.0.0.1:9002"}}""");
        changeState("db-1", "BOOTSTRAPPING", "launched");
        changeState("db-1", "RUNNING", "bootstrapped");
        member.put().uri("/api/v1/instances/web-1/sessions/s-42").retrieve().toBodilessEntity();
        register("""
                {"id": "queue-1", "type": "queue"}""");

        cli = new Cli(java.util.Map.of(FabricHome.HOME_ENV, dir.resolve("home").toString(), FabricHome.REGISTRY_ENV, url,
                FabricHome.KEYS_ENV, keys.toString()), dir, Clock.systemUTC());
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    private static void register(String json) {
        member.post().uri("/api/v1/instances").contentType(MediaType.APPLICATION_JSON).body(json).retrieve().toBodilessEntity();
    }

    private static void changeState(String id, String state, String reason) {
        member.put().uri("/api/v1/instances/{id}/state", id).contentType(MediaType.APPLICATION_JSON)
                .body("{\"state\": \"" + state + "\", \"incarnation\": 1, \"reason\": \"" + reason + "\"}")
                .retrieve().toBodilessEntity();
    }

    @Test
    void servicesListsTheRegisteredInstances() {
        Cli.Result result = cli.run("services");
        assertThat(result.exitCode()).as(result.err()).isZero();
        List<String> lines = result.out().lines().toList();
        assertThat(lines.getFirst()).startsWith("ID").contains("TYPE", "NAME", "STATE", "INCARNATION", "PARENT", "LAST HEARTBEAT", "ENDPOINTS");
        assertThat(lines).anySatisfy(line -> assertThat(line).startsWith("web-1").contains("web", "frontend", "RUNNING", "spawner-1",
                "s ago", "management=http://127.0.0.1:9001,service=http://127.0.0.1:8081"));
        assertThat(lines).anySatisfy(line -> assertThat(line).startsWith("db-1").contains("db", "RUNNING", "management=http://127.0.0.1:9002"));
    }

    @Test
    void servicesFiltersAndPrintsTheRegistrysJson() {
        Cli.Result web = cli.run("services", "--type", "web");
        assertThat(web.out()).contains("web-1").doesNotContain("db-1");

        Cli.Result inSession = cli.run("services", "--session", "s-42", "--state", "running");
        assertThat(inSession.out()).contains("web-1").doesNotContain("db-1");

        Cli.Result none = cli.run("services", "--state", "DEAD");
        assertThat(none.exitCode()).isZero();
        assertThat(none.out()).isEmpty();
        assertThat(none.err()).contains("no instances match");

        Cli.Result json = cli.run("services", "-o", "json");
        JsonNode list = JsonMapper.builder().build().readTree(json.out());
        assertThat(list.path("revision").asLong()).isPositive();
        assertThat(list.path("instances").findValuesAsString("id")).contains("web-1", "db-1");
    }

    @Test
    void aFilterTheRegistryRejectsIsAUsageError() {
        Cli.Result result = cli.run("services", "--state", "SLEEPING");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).startsWith("fabric: ").contains("HTTP 400");
    }

    @Test
    void serviceShowsTheInstanceItsSessionsAndItsHistory() {
        Cli.Result db = cli.run("service", "db-1");
        assertThat(db.exitCode()).as(db.err()).isZero();
        assertThat(db.out()).contains("ID              db-1", "STATE           RUNNING (bootstrapped)", "SESSIONS\n  (none)", "HISTORY");
        assertThat(db.out().substring(db.out().indexOf("HISTORY")).lines().skip(2).toList())
                .satisfiesExactly(
                        line -> assertThat(line).contains("-", "PENDING", "registered as incarnation 1"),
                        line -> assertThat(line).contains("PENDING", "BOOTSTRAPPING", "launched"),
                        line -> assertThat(line).contains("BOOTSTRAPPING", "RUNNING", "bootstrapped"));

        Cli.Result web = cli.run("service", "web-1", "-o", "json");
        JsonNode all = JsonMapper.builder().build().readTree(web.out());
        assertThat(all.path("instance").path("id").asString()).isEqualTo("web-1");
        assertThat(all.path("sessions").get(0).asString()).isEqualTo("s-42");
        assertThat(all.path("history").get(0).path("to").asString()).isEqualTo("RUNNING");
    }

    @Test
    void watchFromRevisionZeroPrintsEveryChange() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicReference<Integer> exitCode = new AtomicReference<>();
        Thread watch = Thread.ofPlatform().name("watch").start(() ->
                exitCode.set(cli.start(new PrintWriter(out, true), new PrintWriter(err, true)).execute("watch", "--since", "0")));
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> out.toString().contains("SESSION_ADDED"));
        } finally {
            watch.interrupt();
            watch.join(Duration.ofSeconds(10));
        }
        assertThat(watch.isAlive()).isFalse();
        assertThat(exitCode.get()).as(err.toString()).isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines.subList(0, 5)).satisfiesExactly(
                line -> assertThat(line).matches("1\\s+\\S+Z\\s+REGISTERED\\s+web-1\\s+- -> RUNNING\\s+registered as incarnation 1"),
                line -> assertThat(line).matches("2\\s+\\S+Z\\s+REGISTERED\\s+db-1\\s+- -> PENDING\\s+registered as incarnation 1"),
                line -> assertThat(line).matches("3\\s+\\S+Z\\s+STATE\\s+db-1\\s+PENDING -> BOOTSTRAPPING\\s+launched"),
                line -> assertThat(line).matches("4\\s+\\S+Z\\s+STATE\\s+db-1\\s+BOOTSTRAPPING -> RUNNING\\s+bootstrapped"),
                line -> assertThat(line).matches("5\\s+\\S+\\s+SESSION_ADDED\\s+web-1\\s+session s-42"));
    }

    @Test
    void watchWithoutSinceFollowsNewChanges() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicReference<Integer> exitCode = new AtomicReference<>();
        Thread watch = Thread.ofPlatform().name("watch-live").start(() ->
                exitCode.set(cli.start(new PrintWriter(out, true), new PrintWriter(err, true)).execute("watch", "--type", "queue")));
        AtomicInteger session = new AtomicInteger();
        try {
            // The watch starts at the registry's revision of the moment: keep changing things until it shows one.
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
                member.put().uri("/api/v1/instances/queue-1/sessions/live-{n}", session.incrementAndGet()).retrieve().toBodilessEntity();
                return out.toString().contains("SESSION_ADDED");
            });
        } finally {
            watch.interrupt();
            watch.join(Duration.ofSeconds(10));
        }
        assertThat(exitCode.get()).as(err.toString()).isZero();
        assertThat(out.toString()).doesNotContain("REGISTERED").doesNotContain("web-1").contains("queue-1  session live-");
    }

    @Test
    void serviceWaitsForAnIdNotRegisteredYetUntilItIsInTheState() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicReference<Integer> exitCode = new AtomicReference<>();
        Thread wait = Thread.ofPlatform().name("wait-for").start(() -> exitCode.set(cli.start(new PrintWriter(out, true),
                new PrintWriter(err, true)).execute("service", "late-1", "--wait-for", "running", "--timeout", "60s", "-o", "json")));
        try {
            Thread.sleep(1200);
            assertThat(wait.isAlive()).as("not registered yet: still waiting; " + err).isTrue();
            register("""
                    {"id": "late-1", "type": "late", "state": "PENDING"}""");
            changeState("late-1", "BOOTSTRAPPING", "launched");
            Thread.sleep(1200);
            assertThat(wait.isAlive()).as("BOOTSTRAPPING: still waiting; " + err).isTrue();
            changeState("late-1", "RUNNING", "bootstrapped");
            wait.join(Duration.ofSeconds(30));
        } finally {
            wait.interrupt();
        }
        assertThat(exitCode.get()).as(err.toString()).isZero();
        JsonNode all = JsonMapper.builder().build().readTree(out.toString());
        assertThat(all.path("instance").path("state").asString()).isEqualTo("RUNNING");
        assertThat(all.path("history").findValuesAsString("to")).containsExactly("PENDING", "BOOTSTRAPPING", "RUNNING");
    }

    @Test
    void aWaitThatRunsOutSaysWhereTheInstanceIs() {
        Cli.Result result = cli.run("service", "db-1", "--wait-for", "DEAD", "--timeout", "1s");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).startsWith("fabric: instance db-1 is not DEAD after 1s (it is RUNNING: bootstrapped, incarnation 1)\n")
                .contains("--timeout");

        Cli.Result never = cli.run("service", "never-1", "--wait-for", "RUNNING", "--timeout", "1s");
        assertThat(never.exitCode()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(never.err()).startsWith("fabric: instance never-1 is not RUNNING after 1s (it is not registered)\n");
    }

    @Test
    void anUnknownStateOrATimeoutWithoutAWaitIsAUsageError() {
        Cli.Result unknown = cli.run("service", "db-1", "--wait-for", "SLEEPING");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.out()).isEmpty();
        assertThat(unknown.err()).startsWith("fabric: --wait-for: unknown state 'SLEEPING'\n")
                .contains("PENDING, BOOTSTRAPPING, RUNNING, SUSPECT, DEAD, FAILED, LOST, STOPPED");

        Cli.Result timeout = cli.run("service", "db-1", "--timeout", "5s");
        assertThat(timeout.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(timeout.err()).startsWith("fabric: --timeout is for --wait-for STATE");
    }

    @Test
    void anUnknownIdExitsWithTheNotFoundCode() {
        Cli.Result result = cli.run("service", "no-such-id");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).startsWith("fabric: no instance with id 'no-such-id' is registered (unknown-instance, HTTP 404)\n")
                .contains("fabric services");
    }

    @Test
    void anotherFabricsKeyIsRefused() {
        Path otherKeys = dir.resolve("other-keys");
        FabricKeys other = FabricKeys.generate();
        other.writeTo(otherKeys);
        Cli.Result result = cli.run("--keys", otherKeys.toString(), "services");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.REFUSED);
        assertThat(result.err()).startsWith("fabric: ").contains("(unknown-key, HTTP 401)", otherKeys.toString(), other.keyId(), "--keys");

        Cli.Result watch = cli.run("--keys", otherKeys.toString(), "watch", "--since", "0");
        assertThat(watch.exitCode()).isEqualTo(ExitCodes.REFUSED);
    }

    @Test
    void aRegistryThatIsNotListeningIsUnreachable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String nowhere = "http://127.0.0.1:" + port;
        Cli.Result result = cli.run("--registry", nowhere, "services");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(result.err()).startsWith("fabric: cannot reach the registry at " + nowhere + " (connection refused)")
                .contains("--registry", "./fabric up");
    }
}
