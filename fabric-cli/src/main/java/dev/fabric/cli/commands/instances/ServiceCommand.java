package dev.fabric.cli.commands.instances;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Table;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;
import dev.fabric.core.registry.InstanceState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code fabric service ID}: one instance, its sessions and its state history; with
 * {@code --wait-for STATE}, once the instance is in that state.
 */
@Command(name = "service", description = {"Show one instance: its fields, its sessions and its state history.",
        "-o json prints {\"instance\": ..., \"sessions\": [...], \"history\": [...]}, each as the registry answers it."})
public final class ServiceCommand extends FabricCommand.WithOutput {

    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
    /** How often a wait asks the registry again. */
    static final Duration POLL_INTERVAL = Duration.ofMillis(500);

    @Parameters(paramLabel = "ID", description = "the instance id")
    String id;

    @Option(names = "--wait-for", paramLabel = "STATE",
            description = {"first wait until the instance is in STATE (e.g. RUNNING after a restart, DEAD after a kill), then show it;",
                    "an id not registered yet is waited for too"})
    String waitFor;

    @Option(names = "--timeout", paramLabel = "D", converter = DurationConverter.class,
            description = "with --wait-for: how long to wait, e.g. 90s, 5m (default 2m)")
    Duration timeout;

    public ServiceCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() throws InterruptedException {
        // The command line first: a usage error is one whatever the keys and the registry.
        String awaited = waitFor == null ? null : state(waitFor);
        if (waitFor == null && timeout != null) {
            throw new CliException(ExitCodes.USAGE, "--timeout is for --wait-for STATE");
        }
        Registry registry = context.registry();
        if (awaited != null) {
            awaitState(registry, awaited, timeout == null ? DEFAULT_TIMEOUT : timeout);
        }
        JsonNode instance = registry.instance(id);
        JsonNode sessions = registry.sessions(id);
        JsonNode history = registry.history(id);
        ObjectNode all = context.json().createObjectNode();
        all.set("instance", instance);
        all.set("sessions", sessions);
        all.set("history", history);
        show(all, () -> describe(registry.decode(instance, RegistryWire.Instance.class),
                List.of(registry.decode(sessions, String[].class)),
                List.of(registry.decode(history, RegistryWire.Transition[].class)),
                context.clock().instant()));
    }

    /** The registry's name of a state, in any case; anything else is a usage error that lists them. */
    static String state(String name) {
        try {
            return InstanceState.valueOf(name.strip().toUpperCase(Locale.ROOT)).name();
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, "--wait-for: unknown state '" + name + "'",
                    List.of("the states: " + String.join(", ", Arrays.stream(InstanceState.values()).map(Enum::name).toList())));
        }
    }

    /**
     * Asks the registry every {@link #POLL_INTERVAL} until the instance is in {@code state}; an id not
     * registered (yet) is asked again. Past {@code limit}: exit 9, saying where it is.
     */
    private void awaitState(Registry registry, String state, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            String now;
            try {
                RegistryWire.Instance instance = registry.member(id);
                if (instance.state().equals(state)) {
                    return;
                }
                now = "it is " + instance.state() + (instance.stateReason() == null ? "" : ": " + instance.stateReason())
                        + ", incarnation " + instance.incarnation();
            } catch (CliException e) {
                if (e.exitCode() != ExitCodes.NOT_FOUND) {
                    throw e;
                }
                now = "it is not registered";
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new CliException(ExitCodes.MEMBER_FAILED, "instance " + id + " is not " + state + " after "
                        + DurationConverter.format(limit) + " (" + now + ")",
                        List.of("`fabric service " + id + "` shows its history; wait longer with --timeout"));
            }
            Thread.sleep(POLL_INTERVAL);
        }
    }

    /**
     * How callers reach the member, and since when: the path is fixed when an incarnation registers
     * (its {@code via}, docs/connectivity.md), so "since" is that registration.
     */
    static String reached(RegistryWire.Instance instance) {
        String via = instance.metadata() == null ? null : instance.metadata().get(dev.fabric.core.client.Reach.VIA);
        String path = via == null || via.isBlank() ? "direct"
                // Mode 4: callers splice on demand, and go through the bridge when splicing fails (docs/connectivity.md).
                : "SPLICED".equals(instance.connectivity()) ? "spliced on demand, else relayed through bridge " + via
                : "relayed through bridge " + via;
        String reached = path + " (since " + Formats.time(instance.registeredAt()) + ")";
        String splice = splice(instance);
        String withBootstrap = splice == null ? reached : reached + "; bootstrap " + splice;
        String onDemand = since(instance, dev.fabric.core.client.Reach.ON_DEMAND, dev.fabric.core.client.Reach.ON_DEMAND_SINCE);
        return onDemand == null ? withBootstrap : withBootstrap + "; last caller " + onDemand;
    }

    /**
     * Mode 4: how the member's connection with its spawner was made, {@code spliced LOCAL <-> REMOTE
     * (since T)} or {@code relayed through bridge ID (...)}; null for a member of another mode.
     */
    static String splice(RegistryWire.Instance instance) {
        return since(instance, dev.fabric.core.client.Reach.SPLICE, dev.fabric.core.client.Reach.SPLICE_SINCE);
    }

    /** A path the member recorded under {@code key}, with when ({@code sinceKey}); null when it recorded none. */
    private static String since(RegistryWire.Instance instance, String key, String sinceKey) {
        java.util.Map<String, String> metadata = instance.metadata();
        String splice = metadata == null ? null : metadata.get(key);
        if (splice == null || splice.isBlank()) {
            return null;
        }
        String since = metadata.get(sinceKey);
        if (since == null) {
            return splice;
        }
        try {
            return splice + " (since " + Formats.time(Instant.parse(since)) + ")";
        } catch (java.time.format.DateTimeParseException e) {
            return splice + " (since " + since + ")";
        }
    }

    static String describe(RegistryWire.Instance instance, List<String> sessions, List<RegistryWire.Transition> history, Instant now) {
        Table fields = Table.withoutHeader(2)
                .row("ID", instance.id())
                .row("TYPE", instance.type())
                .row("NAME", instance.name())
                .row("STATE", instance.state() + (instance.stateReason() == null ? "" : " (" + instance.stateReason() + ")"))
                .row("INCARNATION", Long.toString(instance.incarnation()))
                .row("PARENT", instance.parentId())
                .row("CONNECTIVITY", instance.connectivity())
                .row("REACHED", reached(instance))
                .row("ENDPOINTS", Formats.map(instance.endpoints()))
                .row("METADATA", Formats.map(instance.metadata()))
                .row("REGISTERED", Formats.time(instance.registeredAt()))
                .row("UPDATED", Formats.time(instance.updatedAt()))
                .row("LAST HEARTBEAT", instance.lastHeartbeatAt() == null ? "-"
                        : Formats.age(instance.lastHeartbeatAt(), now) + " (" + Formats.time(instance.lastHeartbeatAt()) + ")");
        StringBuilder out = new StringBuilder(fields.render());
        out.append("\nSESSIONS\n");
        if (sessions.isEmpty()) {
            out.append("  (none)\n");
        }
        sessions.forEach(session -> out.append("  ").append(session).append('\n'));
        out.append("\nHISTORY\n");
        Table transitions = new Table("SEQ", "AT", "INCARNATION", "FROM", "TO", "REASON");
        for (RegistryWire.Transition transition : history) {
            transitions.row(Long.toString(transition.seq()), Formats.time(transition.at()), Long.toString(transition.incarnation()),
                    transition.from(), transition.to(), transition.reason());
        }
        out.append(transitions.render());
        return out.toString();
    }
}
