package dev.fabric.cli.instances;

import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.OutputFormat;
import dev.fabric.cli.registry.InstanceFilter;
import dev.fabric.cli.registry.InstanceList;
import dev.fabric.cli.registry.RegistryClient;
import dev.fabric.cli.registry.ServiceInstance;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fabric services}: the registered instances, filtered. */
@Command(name = "services", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
        description = "List the registered instances (GET /api/v1/instances).")
public final class ServicesCommand implements Callable<Integer> {

    /** The registry's states, for the help text and shell completion; the registry checks the value. */
    static final class States implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("PENDING", "BOOTSTRAPPING", "RUNNING", "SUSPECT", "DEAD", "FAILED", "LOST", "STOPPED").iterator();
        }
    }

    @ParentCommand
    FabricCli cli;

    @Spec
    CommandSpec spec;

    @Option(names = "--type", paramLabel = "T", description = "only instances of this type")
    String type;

    @Option(names = "--state", paramLabel = "S", completionCandidates = States.class,
            description = "only instances in this state: ${COMPLETION-CANDIDATES}")
    String state;

    @Option(names = "--parent", paramLabel = "P", description = "only instances spawned by this parent (spawner id)")
    String parent;

    @Option(names = "--session", paramLabel = "X", description = "only instances serving this session id")
    String session;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table or json (the registry's answer, with its revision)")
    OutputFormat output;

    @Override
    public Integer call() {
        RegistryClient registry = cli.registry();
        JsonNode answer = registry.instances(new InstanceFilter(type, state == null ? null : state.toUpperCase(Locale.ROOT), parent, session));
        PrintWriter out = spec.commandLine().getOut();
        if (output == OutputFormat.json) {
            out.println(cli.json().writerWithDefaultPrettyPrinter().writeValueAsString(answer));
        } else {
            InstanceList list = registry.decode(answer, InstanceList.class);
            if (list.instances().isEmpty()) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("no instances" + (type == null && state == null && parent == null && session == null ? "" : " match")
                        + " (registry revision " + list.revision() + ")");
                err.flush();
            } else {
                out.print(table(list.instances(), cli.clock().instant()));
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** ID, TYPE, NAME, STATE, INCARNATION, PARENT, LAST HEARTBEAT (age), ENDPOINTS. */
    public static String table(List<ServiceInstance> instances, Instant now) {
        Table table = new Table("ID", "TYPE", "NAME", "STATE", "INCARNATION", "PARENT", "LAST HEARTBEAT", "ENDPOINTS");
        for (ServiceInstance instance : instances) {
            table.row(instance.id(), instance.type(), instance.name(), instance.state(), Long.toString(instance.incarnation()),
                    instance.parentId(), Formats.age(instance.lastHeartbeatAt(), now), Formats.map(instance.endpoints()));
        }
        return table.render();
    }
}
