package dev.fabric.cli.commands.pubsub;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.common.OutputFormat;
import dev.fabric.cli.common.Table;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.http.Problem;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.FabricClientException;
import dev.fabric.core.client.MemberLostException;
import dev.fabric.core.client.MemberRefusedException;
import dev.fabric.core.client.MemberStoppedException;
import dev.fabric.core.client.OffsetGoneException;
import dev.fabric.core.client.RequestBatches;
import dev.fabric.core.client.Subscriber;
import dev.fabric.core.client.Subscription;
import dev.fabric.core.pubsub.PubSubWire;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code fabric pubsub publish|subscribe|topics}: a pubsub member's API (docs/roles.md, "pubsub")
 * from the shell. The member is found by its id in the registry (its {@code pubsub} endpoint), and
 * every request is signed with the local fabric key like any other.
 */
@Command(name = "pubsub",
        description = {"Use a pubsub member: publish messages to its topics, follow a topic, list its topics.",
                "ID is the member's id (`fabric spawn pubsub` prints it); the CLI finds its pubsub endpoint in the registry.",
                "Offsets count from 0 per topic; a topic retains its latest messages (docs/roles.md)."},
        subcommands = {PubSubCommand.Publish.class, PubSubCommand.Subscribe.class, PubSubCommand.Topics.class})
public final class PubSubCommand extends FabricCommand.Group {

    /** The most bodies one publish request carries: a pubsub takes 1 to 1,000. */
    static final int BULK = 1000;

    public PubSubCommand(CommandContext context) {
        super(context);
    }

    /** The member's pubsub API, found through the registry. */
    static FabricEndpoint pubsub(CommandContext context, String id) {
        return context.member(id, PubSubWire.ENDPOINT, "only a running member serves its topics", problem -> advice(id, problem));
    }

    /** What to do about the pubsub's own problems. */
    static List<String> advice(String id, Problem problem) {
        return switch (problem.reason()) {
            case "gone" -> List.of("`fabric pubsub topics " + id + "` shows the oldest offset each topic retains; read from there with --from");
            case "pubsub-not-started" -> List.of("`fabric service " + id + "` shows its state; retry once it is RUNNING");
            case "journal-unavailable" -> List.of("nothing was published: retry; if it persists, see the member's log (`fabric log " + id
                    + "`): is its disk full?");
            case "body-too-large" -> List.of("the member takes at most its " + RequestBatches.SETTING + " in one request (512KB unless its "
                    + "spawner was set otherwise): publish fewer or smaller bodies at a time (docs/security.md)");
            default -> List.of();
        };
    }

    @Command(name = "publish",
            description = {"Publish each BODY to TOPIC (POST /pubsub/v1/topics/{topic}/messages) and print their offsets, one per line.",
                    "Several bodies go in one request and one journal write, in order, as many as a request takes (1,000 bodies "
                            + "and 512 KiB of JSON, a member's max-body-size); more go in several. A message is on the member's "
                            + "disk once its offset is printed; when a request fails, the offsets of those published before are printed."})
    static final class Publish extends FabricCommand.WithOutput {

        @Parameters(index = "0", paramLabel = "ID", description = "the pubsub member's id")
        String id;

        @Parameters(index = "1", paramLabel = "TOPIC", description = "the topic: lower-case letters, digits, '.', '_' and '-' (e.g. tasks.pilot-1)")
        String topic;

        @Parameters(index = "2..*", arity = "1..*", paramLabel = "BODY", description = "a message's body (text, up to 256 KiB in UTF-8)")
        List<String> bodies;

        Publish(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            List<List<String>> requests;
            try {
                requests = RequestBatches.split(bodies, body -> context.json().writeValueAsBytes(body).length,
                        context.json().writeValueAsBytes(PubSubWire.Publish.all(List.of())).length, RequestBatches.MEMBER_MAX_BODY_BYTES,
                        BULK, i -> "BODY " + (i + 1));
            } catch (RequestBatches.ItemTooLargeException e) {
                throw new CliException(ExitCodes.USAGE, e.getMessage(), List.of("a message's body is up to 256 KiB in UTF-8 "
                        + "(docs/roles.md); store large payloads elsewhere and publish a reference"));
            }
            FabricEndpoint pubsub = pubsub(context, id);
            if (bodies.size() == 1) {
                ObjectNode request = context.json().createObjectNode().put("body", bodies.getFirst());
                JsonNode answer = answered(pubsub.send(HttpMethod.POST, "/topics/{topic}/messages", request, topic).body());
                long offset = pubsub.decode(answer, PubSubWire.Published.class).offset();
                show(answer, () -> offset + "\n");
                return;
            }
            List<Long> offsets = new ArrayList<>();
            for (List<String> run : requests) {
                ObjectNode request = context.json().createObjectNode();
                run.forEach(request.putArray("bodies")::add);
                try {
                    JsonNode answer = answered(pubsub.send(HttpMethod.POST, "/topics/{topic}/messages", request, topic).body());
                    offsets.addAll(pubsub.decode(answer, PubSubWire.PublishedAll.class).offsets());
                } catch (CliException failed) {
                    if (!offsets.isEmpty()) {
                        // Those are on the member's disk: say which, as a publish of them alone would have.
                        show(context.json().valueToTree(new PubSubWire.PublishedAll(offsets)),
                                () -> String.join("\n", offsets.stream().map(String::valueOf).toList()) + "\n");
                    }
                    throw failed;
                }
            }
            JsonNode all = context.json().valueToTree(new PubSubWire.PublishedAll(offsets));
            show(all, () -> String.join("\n", offsets.stream().map(String::valueOf).toList()) + "\n");
        }

        private JsonNode answered(JsonNode answer) {
            if (answer == null) {
                throw new CliException(ExitCodes.SERVER_ERROR, "member " + id + " accepted the messages but named no offsets",
                        List.of("is the CLI as new as the member? Rebuild it with ./fabric build"));
            }
            return answer;
        }
    }

    @Command(name = "subscribe",
            description = {"Follow TOPIC and print each message as it is published, one per line: OFFSET and BODY (line breaks "
                    + "escaped), or with -o json one JSON object per message and line: {\"offset\": N, \"body\": \"...\"}.",
                    "Without --from it starts with the next message published. When the stream breaks (the member restarted, "
                            + "a network cut) it carries on after the last offset it printed, so nothing is missed or printed twice.",
                    "It runs until Ctrl-C (exit 130), or until --count messages were printed (exit 0)."})
    static final class Subscribe extends FabricCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "the pubsub member's id")
        String id;

        @Parameters(index = "1", paramLabel = "TOPIC", description = "the topic")
        String topic;

        @Option(names = "--from", paramLabel = "N", description = "start at offset N (0: the oldest a fresh topic has)")
        Long from;

        @Option(names = "--count", paramLabel = "N", description = "stop after N messages")
        Integer count;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "table (OFFSET BODY, one line per message) or json (one JSON object per message and line)")
        OutputFormat output;

        Subscribe(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            if ((from != null && from < 0) || (count != null && count < 1)) {
                throw new CliException(ExitCodes.USAGE, "--from takes an offset of 0 or more, --count a number of 1 or more");
            }
            if (!PubSubWire.isTopic(topic)) {
                throw new CliException(ExitCodes.USAGE, "'" + topic + "' is not a topic name: 1 to 128 characters, lower-case letters, "
                        + "digits, '.', '_' and '-', starting with a letter or digit (e.g. tasks.pilot-1)");
            }
            // The registry's view first: an unknown member, or one that is no pubsub, is said with its next step.
            pubsub(context, id);
            FabricClient fabric = context.fabricClient();
            Output out = output();
            AtomicInteger printed = new AtomicInteger();
            Subscription subscription;
            try {
                subscription = fabric.pubsub(id).subscribe(topic, from, new Subscriber() {
                    @Override
                    public void onMessage(PubSubWire.Message message) {
                        if (count != null && printed.get() >= count) {
                            return;
                        }
                        if (output == OutputFormat.json) {
                            out.jsonLine(context.json().createObjectNode().put("offset", message.offset()).put("body", message.body()));
                        } else {
                            out.line(message.offset() + "  " + Formats.oneLine(message.body()));
                        }
                        printed.incrementAndGet();
                    }
                });
            } catch (FabricClientException e) {
                throw failure(e);
            }
            try {
                while (subscription.isOpen() && (count == null || printed.get() < count)) {
                    subscription.awaitEnd(Duration.ofMillis(100));
                }
            } catch (InterruptedException e) {
                // Ctrl-C interrupts this thread: the subscription ends with it.
                Thread.currentThread().interrupt();
                return;
            } finally {
                subscription.close();
            }
            if (count == null || printed.get() < count) {
                subscription.failure().ifPresent(e -> {
                    throw failure(e);
                });
            }
        }

        private CliException failure(RuntimeException e) {
            return switch (e) {
                case OffsetGoneException gone -> new CliException(ExitCodes.forStatus(410), e.getMessage(),
                        List.of("start again from the oldest retained offset: fabric pubsub subscribe " + id + " " + topic + " --from "
                                + gone.oldest()));
                case MemberRefusedException refused -> new CliException(ExitCodes.forStatus(refused.status()), e.getMessage());
                case MemberLostException lost -> new CliException(ExitCodes.CONFLICT, e.getMessage(),
                        List.of("its messages are gone with it; `fabric service " + id + "` shows its history"));
                case MemberStoppedException stopped -> new CliException(ExitCodes.CONFLICT, e.getMessage());
                default -> new CliException(ExitCodes.UNREACHABLE, e.getMessage(), List.of("`fabric service " + id + "` shows its state"));
            };
        }
    }

    @Command(name = "topics",
            description = {"The member's topics (GET /pubsub/v1/topics): NAME, OLDEST (the oldest offset retained), NEXT (the offset "
                    + "the next message gets) and RETAINED (how many messages it retains)."})
    static final class Topics extends FabricCommand.WithOutput {

        @Parameters(paramLabel = "ID", description = "the pubsub member's id")
        String id;

        Topics(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            FabricEndpoint pubsub = pubsub(context, id);
            JsonNode answer = pubsub.send(HttpMethod.GET, "/topics", null).body();
            PubSubWire.Topics topics = answer == null ? new PubSubWire.Topics(List.of()) : pubsub.decode(answer, PubSubWire.Topics.class);
            show(answer, () -> {
                Table table = new Table("NAME", "OLDEST", "NEXT", "RETAINED");
                topics.topics().forEach(t -> table.row(t.name(), Long.toString(t.oldest()), Long.toString(t.next()),
                        Long.toString(t.retained())));
                return table.render();
            });
        }
    }
}
