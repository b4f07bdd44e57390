package dev.fabric.cli.commands.instances;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Table;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/** {@code fabric services}: the registered instances, filtered. */
@Command(name = "services", description = "List the registered instances (GET /api/v1/instances); -o json prints the registry's answer with its revision.")
public final class ServicesCommand extends FabricCommand.WithOutput {

    /** The registry's states, for the help text and shell completion; the registry checks the value. */
    static final class States implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("PENDING", "BOOTSTRAPPING", "RUNNING", "SUSPECT", "DEAD", "FAILED", "LOST", "STOPPED").iterator();
        }
    }

    @Option(names = "--type", paramLabel = "T", description = "only instances of this type")
    String type;

    @Option(names = "--state", paramLabel = "S", completionCandidates = States.class,
            description = "only instances in this state: ${COMPLETION-CANDIDATES}")
    String state;

    @Option(names = "--parent", paramLabel = "P", description = "only instances spawned by this parent (spawner id)")
    String parent;

    @Option(names = "--session", paramLabel = "X", description = "only instances serving this session id")
    String session;


    public ServicesCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() {
        Registry registry = context.registry();
        JsonNode answer = registry.instances(new RegistryWire.Filter(type, state == null ? null : state.toUpperCase(Locale.ROOT), parent,
                session));
        show(answer, () -> {
            RegistryWire.Instances list = registry.decode(answer, RegistryWire.Instances.class);
            if (list.instances().isEmpty()) {
                output().note("no instances" + (type == null && state == null && parent == null && session == null ? "" : " match")
                        + " (registry revision " + list.revision() + ")");
                return "";
            }
            return table(list.instances(), context.clock().instant());
        });
    }

    /** ID, TYPE, NAME, STATE, INCARNATION, PARENT, LAST HEARTBEAT (age), ENDPOINTS. */
    public static String table(List<RegistryWire.Instance> instances, Instant now) {
        Table table = new Table("ID", "TYPE", "NAME", "STATE", "INCARNATION", "PARENT", "LAST HEARTBEAT", "ENDPOINTS");
        for (RegistryWire.Instance instance : instances) {
            table.row(instance.id(), instance.type(), instance.name(), instance.state(), Long.toString(instance.incarnation()),
                    instance.parentId(), Formats.age(instance.lastHeartbeatAt(), now), Formats.map(instance.endpoints()));
        }
        return table.render();
    }
}
