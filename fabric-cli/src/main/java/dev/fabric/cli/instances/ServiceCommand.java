package dev.fabric.cli.instances;

import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.OutputFormat;
import dev.fabric.cli.registry.RegistryClient;
import dev.fabric.cli.registry.ServiceInstance;
import dev.fabric.cli.registry.StateTransition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code fabric service ID}: one instance, its sessions and its state history. */
@Command(name = "service", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
        description = "Show one instance: its fields, its sessions and its state history.")
public final class ServiceCommand implements Callable<Integer> {

    @ParentCommand
    FabricCli cli;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "the instance id")
    String id;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table or json ({\"instance\": ..., \"sessions\": [...], \"history\": [...]})")
    OutputFormat output;

    @Override
    public Integer call() {
        RegistryClient registry = cli.registry();
        JsonNode instance = registry.instance(id);
        JsonNode sessions = registry.sessions(id);
        JsonNode history = registry.history(id);
        PrintWriter out = spec.commandLine().getOut();
        if (output == OutputFormat.json) {
            ObjectNode all = cli.json().createObjectNode();
            all.set("instance", instance);
            all.set("sessions", sessions);
            all.set("history", history);
            out.println(cli.json().writerWithDefaultPrettyPrinter().writeValueAsString(all));
        } else {
            out.print(describe(registry.decode(instance, ServiceInstance.class),
                    List.of(registry.decode(sessions, String[].class)),
                    List.of(registry.decode(history, StateTransition[].class)),
                    cli.clock().instant()));
        }
        out.flush();
        return ExitCodes.OK;
    }

    static String describe(ServiceInstance instance, List<String> sessions, List<StateTransition> history, Instant now) {
        Table fields = Table.withoutHeader(2)
                .row("ID", instance.id())
                .row("TYPE", instance.type())
                .row("NAME", instance.name())
                .row("STATE", instance.state() + (instance.stateReason() == null ? "" : " (" + instance.stateReason() + ")"))
                .row("INCARNATION", Long.toString(instance.incarnation()))
                .row("PARENT", instance.parentId())
                .row("CONNECTIVITY", instance.connectivity())
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
        for (StateTransition transition : history) {
            transitions.row(Long.toString(transition.seq()), Formats.time(transition.at()), Long.toString(transition.incarnation()),
                    transition.from(), transition.to(), transition.reason());
        }
        out.append(transitions.render());
        return out.toString();
    }
}
