package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.Cli;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.Connectivity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** spawn, stop and sessions without a fabric: parsing, help, and where the spawner's URL comes from. */
class SpawnerCommandsTest {

    @TempDir
    Path home;

    private ParseResult parse(String... args) {
        return FabricCli.commandLine(new FabricCli(Map.of(), home, Clock.systemUTC())).parseArgs(args).subcommand();
    }

    @Test
    void spawnParsesItsOptions() {
        ParseResult spawn = parse("spawn", "queue", "--name", "orders", "--connectivity", "firewall-to-service", "--cpu", "250m",
                "--memory", "128Mi", "--config", "a=1", "--config", "b.c=x=y", "--wait", "--timeout", "90s", "--spawner", "http://s:1",
                "--host", "compute-1");
        SpawnCommand command = (SpawnCommand) spawn.commandSpec().userObject();
        assertThat(command.type).isEqualTo("queue");
        assertThat(command.name).isEqualTo("orders");
        assertThat(command.connectivity).isEqualTo(Connectivity.FIREWALL_TO_SERVICE);
        assertThat(command.cpu).isEqualTo("250m");
        assertThat(command.memory).isEqualTo("128Mi");
        assertThat(command.config).containsExactly(Map.entry("a", "1"), Map.entry("b.c", "x=y"));
        assertThat(command.await).isTrue();
        assertThat(command.timeout).isEqualTo(Duration.ofSeconds(90));
        assertThat(command.spawnerOption).isEqualTo("http://s:1");
        assertThat(command.host).isEqualTo("compute-1");
    }

    @Test
    void badSpawnCommandLinesAreUsageErrors() {
        Cli cli = Cli.withHome(home);

        Cli.Result noType = cli.run("spawn");
        assertThat(noType.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noType.err()).contains("Missing required parameter: 'TYPE'");

        Cli.Result badMode = cli.run("spawn", "queue", "--connectivity", "carrier-pigeon");
        assertThat(badMode.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badMode.err()).contains("'carrier-pigeon' is not a connectivity mode", "DIRECT, FIREWALL_TO_SERVICE, FIREWALL_FROM_SERVICE");

        Cli.Result badConfig = cli.run("spawn", "queue", "--config", "novalue");
        assertThat(badConfig.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badConfig.err()).contains("KEY=VALUE");

        Cli.Result badTimeout = cli.run("spawn", "queue", "--wait", "--timeout", "soon");
        assertThat(badTimeout.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badTimeout.err()).contains("'soon' is not a duration");
    }

    @Test
    void withoutWaitTheTimeoutBoundsTheSpawnRequest() {
        SpawnCommand command = (SpawnCommand) parse("spawn", "queue", "--timeout", "5m").commandSpec().userObject();
        assertThat(command.await).isFalse();
        assertThat(command.timeout).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void badStopAndSessionsCommandLinesAreUsageErrors() {
        Cli cli = Cli.withHome(home);
        assertThat(cli.run("stop").exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.run("restart").exitCode()).isEqualTo(ExitCodes.USAGE);
        for (String incarnation : List.of("0", "-1", "two")) {
            Cli.Result badIncarnation = cli.run("restart", "queue-1", "--incarnation", incarnation, "--spawner", "http://127.0.0.1:1");
            assertThat(badIncarnation.exitCode()).as(badIncarnation.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(badIncarnation.err()).contains("--incarnation");
        }

        Cli.Result noSubcommand = cli.run("sessions");
        assertThat(noSubcommand.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noSubcommand.err()).contains("missing command: add, remove or show");

        Cli.Result noSession = cli.run("sessions", "add", "queue-1");
        assertThat(noSession.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noSession.err()).contains("SESSION");

        assertThat(cli.run("sessions", "show", "s-1", "-o", "yaml").exitCode()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void helpDescribesTheNewCommands() {
        Cli cli = Cli.withHome(home);
        Cli.Result help = cli.run("--help");
        assertThat(help.out()).contains("spawn", "restart", "stop", "sessions", "FABRIC_SPAWNER", FabricHome.DEFAULT_SPAWNER);

        assertThat(cli.run("spawn", "--help").out()).contains("TYPE", "--name=N", "--connectivity=MODE", "--cpu=Q", "--memory=Q",
                "--config=KEY=VALUE", "--wait", "--timeout=D", "--spawner=URL", "--host=H", "FIREWALL_FROM_SERVICE");
        assertThat(cli.run("stop", "--help").out()).contains("ID", "--spawner=URL", "STOPPED");
        assertThat(cli.run("restart", "--help").out()).contains("ID", "--incarnation=N", "--wait", "--timeout=D", "--spawner=URL",
                "POST /api/v1/members/{id}/restart");
        assertThat(cli.run("sessions", "--help").out()).contains("add", "remove", "show");
        assertThat(cli.run("sessions", "show", "--help").out()).contains("SESSION", "-o, --output=FORMAT");
    }

    @Test
    void theSpawnerGivenOnTheCommandLineOrInTheEnvironmentWins() {
        FabricHome fabricHome = FabricHome.of(Map.of(), home);
        assertThat(fabricHome.spawner("http://a:1/", Map.of(FabricHome.SPAWNER_ENV, "http://b:2")))
                .contains(new FabricHome.Setting<>("http://a:1", "given by --spawner"));
        assertThat(fabricHome.spawner(null, Map.of(FabricHome.SPAWNER_ENV, " http://b:2 ")))
                .contains(new FabricHome.Setting<>("http://b:2", "given by $FABRIC_SPAWNER"));
        assertThat(fabricHome.spawner(" ", Map.of())).isEmpty();
    }

    @Test
    void aSpawnerThatIsNotListeningIsUnreachableAndTheMessageSaysWhereItsUrlCameFrom() throws Exception {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        String nowhere = "http://127.0.0.1:" + closedPort();

        Cli.Result spawn = Cli.withHome(home).run("spawn", "queue", "--spawner", nowhere);
        assertThat(spawn.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(spawn.out()).isEmpty();
        assertThat(spawn.err()).startsWith("fabric: cannot reach the spawner at " + nowhere + " (connection refused)")
                .contains("the URL is given by --spawner", "./fabric up", "$FABRIC_SPAWNER");

        Cli fromEnv = new Cli(Map.of(FabricHome.HOME_ENV, home.toString(), FabricHome.SPAWNER_ENV, nowhere), home, Clock.systemUTC());
        Cli.Result stop = fromEnv.run("stop", "queue-1");
        assertThat(stop.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(stop.err()).contains("cannot reach the spawner at " + nowhere, "the URL is given by $FABRIC_SPAWNER");
        Cli.Result restart = fromEnv.run("restart", "queue-1");
        assertThat(restart.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(restart.err()).contains("cannot reach the spawner at " + nowhere, "the URL is given by $FABRIC_SPAWNER");
    }

    @Test
    void withoutKeysNothingIsSent() {
        Cli.Result result = Cli.withHome(home).run("spawn", "queue", "--spawner", "http://127.0.0.1:1");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.KEYS);
        assertThat(result.err()).contains("fabric keys init");
    }

    @Test
    void durationsAreWrittenAsPeopleWriteThem() {
        DurationConverter converter = new DurationConverter();
        assertThat(converter.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(converter.convert("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(converter.convert("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(converter.convert("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(converter.convert("PT2M")).isEqualTo(Duration.ofMinutes(2));
        assertThatThrownBy(() -> converter.convert("0s")).hasMessageContaining("not a positive duration");
        assertThat(DurationConverter.format(Duration.ofMinutes(2))).isEqualTo("2m");
        assertThat(DurationConverter.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(DurationConverter.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(DurationConverter.format(Duration.ofHours(13))).isEqualTo("13h");
        assertThat(DurationConverter.format(Duration.ofMinutes(90))).isEqualTo("90m");
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
