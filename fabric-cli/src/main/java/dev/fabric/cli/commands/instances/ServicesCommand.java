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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code fabric services}: the registered instances, filtered; with {@code --tree}, as the tree of who spawned whom. */
@Command(name = "services", description = "List the registered instances (GET /api/v1/instances); --tree shows each under the "
        + "member that spawned it; -o json prints the registry's answer with its revision.")
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

    @Option(names = "--tree", description = "show who spawned whom: each member under its parent (the root spawner, or the "
            + "member that spawned it), with the node that supervises it (its parent, or the node that adopted it)")
    boolean tree;

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
            return tree ? tree(list.instances(), context.clock().instant()) : table(list.instances(), context.clock().instant());
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

    /** Metadata key naming the node that adopted a member, when that is not its parent (docs/spawner.md, "Adoption"). */
    static final String SUPERVISOR = "supervisor";

    /**
     * The instances as a tree of parentage: each under its parent, depth first, in the registry's
     * order; an instance whose parent is not listed (a root spawner, or filtered out) starts a tree.
     * SUPERVISOR names the node that restarts it: its parent, or the node that adopted it.
     */
    public static String tree(List<RegistryWire.Instance> instances, Instant now) {
        Map<String, RegistryWire.Instance> byId = new LinkedHashMap<>();
        instances.forEach(i -> byId.put(i.id(), i));
        Map<String, List<RegistryWire.Instance>> children = new LinkedHashMap<>();
        List<RegistryWire.Instance> roots = new ArrayList<>();
        for (RegistryWire.Instance instance : instances) {
            if (instance.parentId() != null && byId.containsKey(instance.parentId()) && !instance.parentId().equals(instance.id())) {
                children.computeIfAbsent(instance.parentId(), k -> new ArrayList<>()).add(instance);
            } else {
                roots.add(instance);
            }
        }
        Table table = new Table("ID", "TYPE", "NAME", "STATE", "INCARNATION", "SUPERVISOR", "LAST HEARTBEAT", "ENDPOINTS");
        Set<String> shown = new HashSet<>();
        for (RegistryWire.Instance root : roots) {
            branch(table, root, "", "", children, shown, now);
        }
        // A parentage cycle (never made by the fabric, but the registry does not forbid one) still shows every instance.
        for (RegistryWire.Instance instance : instances) {
            if (!shown.contains(instance.id())) {
                branch(table, instance, "", "", children, shown, now);
            }
        }
        return table.render();
    }

    private static void branch(Table table, RegistryWire.Instance instance, String lead, String indent,
                               Map<String, List<RegistryWire.Instance>> children, Set<String> shown, Instant now) {
        if (!shown.add(instance.id())) {
            return;
        }
        String adopter = instance.metadata().get(SUPERVISOR);
        String supervisor = adopter != null && !adopter.isBlank() ? adopter + " (adopted)" : instance.parentId();
        table.row(lead + instance.id(), instance.type(), instance.name(), instance.state(), Long.toString(instance.incarnation()),
                supervisor, Formats.age(instance.lastHeartbeatAt(), now), Formats.map(instance.endpoints()));
        List<RegistryWire.Instance> below = children.getOrDefault(instance.id(), List.of());
        for (int i = 0; i < below.size(); i++) {
            boolean last = i == below.size() - 1;
            branch(table, below.get(i), indent + (last ? "└─ " : "├─ "), indent + (last ? "   " : "│  "), children, shown, now);
        }
    }
}
