package dev.fabric.cli.commands.queue;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.common.Table;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.http.Problem;
import dev.fabric.core.queue.QueueWire;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code fabric queue put|take|ack|nack|stats}: a queue member's API (docs/queue.md) from the
 * shell. The member is found by its id in the registry (its {@code queue} endpoint), and every
 * request is signed with the local fabric key like any other.
 */
@Command(name = "queue",
        description = {"Use a queue member: enqueue messages, lease them, ack or nack the leases, show its counts.",
                "ID is the member's id (`fabric spawn queue` prints it); the CLI finds its queue endpoint in the registry.",
                "Delivery is at least once: a message leaves the queue when its lease is acked, and comes back when the "
                        + "lease is nacked or runs out (docs/queue.md)."},
        subcommands = {QueueCommand.Put.class, QueueCommand.Take.class, QueueCommand.Ack.class, QueueCommand.Nack.class,
                QueueCommand.Stats.class})
public final class QueueCommand extends FabricCommand.Group {

    /** The member's endpoint for its queue API in the registry (the role's name). */
    static final String ENDPOINT = "queue";

    public QueueCommand(CommandContext context) {
        super(context);
    }

    /** The member's queue API, found through the registry. */
    static FabricEndpoint queue(CommandContext context, String id) {
        return context.member(id, ENDPOINT, "only a running member serves its queue", problem -> advice(id, problem));
    }

    /** What to do about the queue's own problems (docs/queue.md, Errors). */
    static List<String> advice(String id, Problem problem) {
        return switch (problem.reason()) {
            case "lease-unknown" -> List.of("a lease id comes from `fabric queue take " + id + "` and is forgotten when the member restarts"
                    + " (its message is then ready again): take the message again");
            case "lease-expired" -> List.of("its message is ready again: lease it again with `fabric queue take " + id + "`,",
                    "with a --visibility longer than the work takes (default 30s)");
            case "lease-nacked" -> List.of("its message went back to the queue at the nack: `fabric queue take " + id + "` leases it again");
            case "lease-acked" -> List.of("its message is done and gone from the queue: there is nothing to give back");
            case "queue-not-started" -> List.of("`fabric service " + id + "` shows its state; retry once it is RUNNING");
            case "journal-unavailable" -> List.of("nothing was stored or acked: retry; if it persists, see the member's log,",
                    "members/" + id + "/member.log in its spawner's data directory (is its disk full?)");
            default -> List.of();
        };
    }

    /** ID, LEASE, DELIVERIES, DEADLINE, BODY: one row per leased message, each body on one line. */
    static String table(List<QueueWire.LeasedMessage> messages) {
        Table table = new Table("ID", "LEASE", "DELIVERIES", "DEADLINE", "BODY");
        for (QueueWire.LeasedMessage message : messages) {
            table.row(message.id(), message.leaseId(), Integer.toString(message.deliveries()), Formats.time(message.deadline()),
                    Formats.oneLine(message.body()));
        }
        return table.render();
    }

    /** Take and stats: read the queue of one member, and print a table or the queue's JSON. */
    abstract static class Reading extends FabricCommand.WithOutput {

        @Parameters(paramLabel = "ID", description = "the queue member's id")
        String id;

        Reading(CommandContext context) {
            super(context);
        }
    }

    @Command(name = "put",
            description = {"Enqueue each TEXT as one message (POST /queue/v1/messages) and print the message ids, one per line.",
                    "A message is on the member's disk once its id is printed. The command stops at the first failure."})
    static final class Put extends FabricCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "the queue member's id")
        String id;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "TEXT", description = "a message's body (up to 256 KiB in UTF-8)")
        List<String> texts;

        Put(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            FabricEndpoint queue = queue(context, id);
            Output out = output();
            for (String text : texts) {
                ObjectNode message = context.json().createObjectNode().put("body", text);
                JsonNode answer = queue.send(HttpMethod.POST, "/messages", message).body();
                QueueWire.Enqueued enqueued = answer == null ? null : queue.decode(answer, QueueWire.Enqueued.class);
                if (enqueued == null || enqueued.id() == null) {
                    throw new CliException(ExitCodes.SERVER_ERROR, "member " + id + " accepted a message but named no id",
                            List.of("is the CLI as new as the member? Rebuild it with ./fabric build"));
                }
                out.line(enqueued.id());
            }
        }
    }

    @Command(name = "take",
            description = {"Lease up to N ready messages, oldest first (POST /queue/v1/leases): each is hidden from other "
                    + "consumers until its deadline. Ack each lease when its work is done, or nack it to give the message back.",
                    "When no message is ready it says \"no message ready\" on stderr, prints nothing on stdout "
                            + "(with -o json: no messages) and exits 0."})
    static final class Take extends Reading {

        @Option(names = "--max", paramLabel = "N", description = "lease up to N messages, 1 to 1000 (default: the queue's, 1)")
        Integer max;

        @Option(names = "--visibility", paramLabel = "D", converter = DurationConverter.class,
                description = "how long the messages stay leased, 1s to 12h: 45s, 5m, 2h (default: the queue's, 30s)")
        Duration visibility;


        Take(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            FabricEndpoint queue = queue(context, id);
            JsonNode answer = queue.send(HttpMethod.POST, uri -> uri.path("/leases")
                    .queryParamIfPresent("max", Optional.ofNullable(max))
                    .queryParamIfPresent("visibility", Optional.ofNullable(visibility).map(DurationConverter::format))
                    .build(), null).body();
            QueueWire.Leases leases = answer == null ? new QueueWire.Leases(List.of()) : queue.decode(answer, QueueWire.Leases.class);
            if (leases.messages().isEmpty()) {
                output().note("no message ready in queue " + id);
            }
            JsonNode printed = answer != null ? answer
                    : context.json().createObjectNode().set("messages", context.json().createArrayNode());
            show(printed, () -> leases.messages().isEmpty() ? "" : table(leases.messages()));
        }
    }

    /** Ack and nack: one request per lease, in order, stopping at the first failure. */
    abstract static class Settle extends FabricCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "the queue member's id")
        String id;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "LEASE", description = "a lease id, as `fabric queue take` prints it")
        List<String> leases;

        private final HttpMethod method;
        private final String path;
        private final String done;

        Settle(CommandContext context, HttpMethod method, String path, String done) {
            super(context);
            this.method = method;
            this.path = path;
            this.done = done;
        }

        @Override
        protected void execute() {
            FabricEndpoint queue = queue(context, id);
            Output out = output();
            for (String lease : leases) {
                queue.send(method, path, null, lease);
                out.line(done + " " + lease);
            }
        }
    }

    @Command(name = "ack",
            description = {"Ack leases (DELETE /queue/v1/leases/{lease}): their messages are done and leave the queue for good.",
                    "Acking a lease again is no error. The command stops at the first failure."})
    static final class Ack extends Settle {
        Ack(CommandContext context) {
            super(context, HttpMethod.DELETE, "/leases/{lease}", "acked");
        }
    }

    @Command(name = "nack",
            description = {"Nack leases (POST /queue/v1/leases/{lease}/nack): their messages are ready again at once, ahead of "
                    + "younger ones.",
                    "Nacking a lease again is no error. The command stops at the first failure."})
    static final class Nack extends Settle {
        Nack(CommandContext context) {
            super(context, HttpMethod.POST, "/leases/{lease}/nack", "nacked");
        }
    }

    @Command(name = "stats",
            description = {"The queue's counts (GET /queue/v1/stats): READY (visible now), LEASED (under a lease that has not "
                    + "run out) and ACKED (acks since the member started; the count starts again at 0 after a restart)."})
    static final class Stats extends Reading {


        Stats(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            FabricEndpoint queue = queue(context, id);
            JsonNode answer = queue.send(HttpMethod.GET, "/stats", null).body();
            if (answer == null) {
                throw new CliException(ExitCodes.SERVER_ERROR, "member " + id + " answered its stats with no counts",
                        List.of("is the CLI as new as the member? Rebuild it with ./fabric build"));
            }
            show(answer, () -> {
                QueueWire.Stats stats = queue.decode(answer, QueueWire.Stats.class);
                return new Table("READY", "LEASED", "ACKED")
                        .row(Long.toString(stats.ready()), Long.toString(stats.leased()), Long.toString(stats.acked()))
                        .render();
            });
        }
    }
}
