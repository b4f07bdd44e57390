package dev.fabric.cli.commands.queue;

import dev.fabric.cli.Cli;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.OutputFormat;
import dev.fabric.cli.http.Problem;
import dev.fabric.core.queue.QueueWire;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code fabric queue} without a fabric: parsing, usage errors, help, what it prints and what it advises. */
class QueueCommandsTest {

    @TempDir
    Path home;

    private ParseResult parse(String... args) {
        return FabricCli.commandLine(new FabricCli(Map.of(), home, Clock.systemUTC())).parseArgs(args).subcommand().subcommand();
    }

    @Test
    void putTakesOneMessagePerText() {
        QueueCommand.Put put = (QueueCommand.Put) parse("queue", "put", "queue-1", "a", "b c", "--registry", "http://r:1")
                .commandSpec().userObject();
        assertThat(put.id).isEqualTo("queue-1");
        assertThat(put.texts).containsExactly("a", "b c");
    }

    @Test
    void takeParsesItsOptions() {
        QueueCommand.Take take = (QueueCommand.Take) parse("queue", "take", "queue-1", "--max", "10", "--visibility", "45s", "-o", "json")
                .commandSpec().userObject();
        assertThat(take.id).isEqualTo("queue-1");
        assertThat(take.max).isEqualTo(10);
        assertThat(take.visibility).isEqualTo(Duration.ofSeconds(45));
        assertThat(take.output).isEqualTo(OutputFormat.json);

        QueueCommand.Take plain = (QueueCommand.Take) parse("queue", "take", "queue-1").commandSpec().userObject();
        assertThat(plain.max).as("the queue's default, not the CLI's").isNull();
        assertThat(plain.visibility).isNull();
        assertThat(plain.output).isEqualTo(OutputFormat.table);
    }

    @Test
    void ackAndNackTakeSeveralLeases() {
        QueueCommand.Ack ack = (QueueCommand.Ack) parse("queue", "ack", "queue-1", "l-1", "l-2").commandSpec().userObject();
        assertThat(ack.leases).containsExactly("l-1", "l-2");
        QueueCommand.Nack nack = (QueueCommand.Nack) parse("queue", "nack", "queue-1", "l-3").commandSpec().userObject();
        assertThat(nack.leases).containsExactly("l-3");
    }

    @Test
    void badQueueCommandLinesAreUsageErrors() {
        Cli cli = Cli.withHome(home);

        Cli.Result noSubcommand = cli.run("queue");
        assertThat(noSubcommand.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noSubcommand.err()).contains("missing command: put, take, ack, nack or stats");

        Cli.Result noText = cli.run("queue", "put", "queue-1");
        assertThat(noText.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noText.err()).contains("TEXT");

        Cli.Result noLease = cli.run("queue", "ack", "queue-1");
        assertThat(noLease.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noLease.err()).contains("LEASE");
        assertThat(cli.run("queue", "nack").exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.run("queue", "stats").exitCode()).isEqualTo(ExitCodes.USAGE);

        Cli.Result badMax = cli.run("queue", "take", "queue-1", "--max", "lots");
        assertThat(badMax.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badMax.err()).contains("--max", "lots");

        Cli.Result badVisibility = cli.run("queue", "take", "queue-1", "--visibility", "a while");
        assertThat(badVisibility.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badVisibility.err()).contains("'a while' is not a duration");

        assertThat(cli.run("queue", "stats", "queue-1", "-o", "yaml").exitCode()).isEqualTo(ExitCodes.USAGE);
        Cli.Result typo = cli.run("queue", "stat", "queue-1");
        assertThat(typo.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(typo.err()).contains("stats");
    }

    @Test
    void helpDescribesTheQueueCommands() {
        Cli cli = Cli.withHome(home);
        assertThat(cli.run("--help").out()).contains("queue");
        assertThat(cli.run("queue", "--help").out()).contains("put", "take", "ack", "nack", "stats", "at least once");
        assertThat(cli.run("queue", "put", "--help").out()).contains("ID", "TEXT...", "message ids");
        assertThat(cli.run("queue", "take", "--help").out()).contains("ID", "--max=N", "--visibility=D", "-o, --output=FORMAT",
                "no message ready");
        assertThat(cli.run("queue", "ack", "--help").out()).contains("ID", "LEASE...");
        assertThat(cli.run("queue", "nack", "--help").out()).contains("ID", "LEASE...", "ready");
        assertThat(cli.run("queue", "stats", "--help").out()).contains("READY", "LEASED", "ACKED");
    }

    @Test
    void aRegistryThatIsNotListeningIsUnreachable() throws Exception {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        String nowhere = "http://127.0.0.1:" + closedPort();
        Cli.Result result = Cli.withHome(home).run("queue", "put", "queue-1", "hello", "--registry", nowhere);
        assertThat(result.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).startsWith("fabric: cannot reach the registry at " + nowhere);
    }

    @Test
    void withoutKeysNothingIsSent() {
        Cli.Result result = Cli.withHome(home).run("queue", "stats", "queue-1");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.KEYS);
        assertThat(result.err()).contains("fabric keys init");
    }

    @Test
    void takePrintsOneRowPerMessageWithEachBodyOnOneLine() {
        List<QueueWire.LeasedMessage> messages = List.of(
                new QueueWire.LeasedMessage("m-1", "l-1", "resize image 42", 1, Instant.parse("2030-01-01T00:00:45.250Z")),
                new QueueWire.LeasedMessage("m-22", "l-22", "line 1\nline 2\tend\u0007", 12, null));
        assertThat(QueueCommand.table(messages)).isEqualTo("""
                ID    LEASE  DELIVERIES  DEADLINE              BODY
                m-1   l-1    1           2030-01-01T00:00:45Z  resize image 42
                m-22  l-22   12          -                     line 1\\nline 2\\tend\\u0007
                """);
        assertThat(Formats.oneLine("")).isEmpty();
        assertThat(Formats.oneLine("naïve 🙂")).isEqualTo("naïve 🙂");
    }

    @Test
    void theQueuesReasonsComeWithANextStep() {
        assertThat(QueueCommand.advice("queue-1", new Problem(409, "lease-expired", "lease l-1 expired")))
                .anySatisfy(hint -> assertThat(hint).contains("fabric queue take queue-1"))
                .anySatisfy(hint -> assertThat(hint).contains("--visibility"));
        assertThat(QueueCommand.advice("queue-1", new Problem(404, "lease-unknown", "lease l-1 is unknown")))
                .anySatisfy(hint -> assertThat(hint).contains("fabric queue take queue-1"));
        assertThat(QueueCommand.advice("queue-1", new Problem(503, "queue-not-started", "queue role not started")))
                .anySatisfy(hint -> assertThat(hint).contains("fabric service queue-1", "RUNNING"));
        assertThat(QueueCommand.advice("queue-1", new Problem(503, "journal-unavailable", "disk full")))
                .anySatisfy(hint -> assertThat(hint).contains("members/queue-1/member.log"));
        assertThat(QueueCommand.advice("queue-1", new Problem(409, "lease-nacked", "nacked"))).isNotEmpty();
        assertThat(QueueCommand.advice("queue-1", new Problem(409, "lease-acked", "acked"))).isNotEmpty();
        assertThat(QueueCommand.advice("queue-1", new Problem(401, "bad-signature", "refused")))
                .as("the general hints (keys) stay").isEmpty();
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
