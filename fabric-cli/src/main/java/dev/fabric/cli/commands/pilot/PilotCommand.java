package dev.fabric.cli.commands.pilot;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.commands.spawner.SpawnCommand;
import dev.fabric.cli.commands.task.TaskManagers;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.OutputFormat;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Table;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.core.client.TaskManager;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.task.TaskState;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code fabric pilot submit|list|cancel}: pilots on a pilot manager member (docs/tasks.md): a
 * queue, a pubsub and agents holding cores, spawned where the pilot says.
 */
@Command(name = "pilot",
        description = {"Place, list and cancel pilots on a pilot manager (docs/tasks.md).",
                "The manager is --manager, $FABRIC_PILOT_MANAGER, or the one RUNNING pilot-manager in the registry."},
        subcommands = {PilotCommand.Submit.class, PilotCommand.ListPilots.class, PilotCommand.Cancel.class})
public final class PilotCommand extends FabricCommand.Group {

    public PilotCommand(CommandContext context) {
        super(context);
    }

    /** Where a pilot's agents start. */
    static final class Where {
        @Option(names = "--member", paramLabel = "ID", description = "a member that spawns the agents (through its management port)")
        String member;

        @Option(names = "--host", paramLabel = "HOST", description = "an SSH host of the manager's spawner settings "
                + "(fabric.spawner.ssh.hosts); repeat it to spread the agents over several hosts in turn")
        List<String> hosts;
    }

    @Command(name = "submit", description = {"Place a pilot and print its id: the manager spawns its queue, pubsub and agents; "
            + "it is ACTIVE once all are RUNNING (--wait waits for that)."})
    static final class Submit extends FabricCommand.WithOutput {

        @Option(names = "--manager", paramLabel = "ID", description = "the pilot manager member")
        String manager;

        @Option(names = "--agents", paramLabel = "N", defaultValue = "1", description = "how many agents, 1 to 64 (default 1)")
        int agents;

        @Option(names = "--cores", paramLabel = "N", defaultValue = "1", description = "slots per agent, 1 to 256 (default 1)")
        int cores;

        @ArgGroup(exclusive = true)
        Where where;

        @Option(names = "--via", paramLabel = "URL", description = "the relay URL (http://host:port) of the bridge the agents reach "
                + "the fabric through and are reached through: for hosts behind a head node (docs/tasks.md)")
        String via;

        @Option(names = "--connectivity", paramLabel = "MODE", converter = SpawnCommand.ConnectivityConverter.class,
                description = "the agents' bootstrap mode: DIRECT (default), FIREWALL_TO_SERVICE (nothing may dial them: their "
                        + "bootstrap goes through --via) or FIREWALL_FROM_SERVICE")
        Connectivity connectivity;

        @Option(names = "--runtime", paramLabel = "D", converter = DurationConverter.class,
                description = "how long the pilot lives, e.g. 30m or 2h; at its end its agents stop and unfinished tasks are CANCELED "
                        + "(default: until canceled)")
        Duration runtime;

        @Option(names = "--rerun-policy", paramLabel = "POLICY", description = "what a restarted agent does with the tasks it was "
                + "running: rerun (default) or fail")
        String rerunPolicy;

        @Option(names = "--wait", description = "wait until the pilot is ACTIVE")
        boolean await;

        @Option(names = "--timeout", paramLabel = "D", converter = DurationConverter.class, defaultValue = "5m",
                description = "how long --wait waits (default 5m)")
        Duration timeout;

        Submit(CommandContext context) {
            super(context);
        }

        /** The pilot's {@code where}: absent when no option names one. */
        private PilotWire.Where placement() {
            PilotWire.Where placement = where == null ? PilotWire.Where.MANAGER
                    : where.hosts == null ? PilotWire.Where.member(where.member)
                    : where.hosts.size() == 1 ? PilotWire.Where.host(where.hosts.getFirst()) : PilotWire.Where.hosts(where.hosts);
            if (via != null || connectivity != null) {
                return placement.through(via, connectivity);
            }
            return where == null ? null : placement;
        }

        @Override
        protected void execute() throws InterruptedException {
            TaskManager tasks = TaskManagers.of(context, manager, null);
            PilotWire.Where placement = placement();
            PilotWire.Pilot pilot = TaskManagers.call(() -> tasks.submitPilot(new PilotWire.PilotDescription(agents, cores, placement,
                    runtime == null ? null : DurationConverter.format(runtime), rerunPolicy)));
            if (await) {
                if (output == OutputFormat.table) {
                    // The id first, at once, as spawn --wait prints it: a script has it even when the wait then fails.
                    output().line(pilot.id());
                }
                try {
                    String id = pilot.id();
                    pilot = TaskManagers.await(() -> tasks.awaitActive(id, timeout), "interrupted while waiting for pilot " + id);
                } catch (IllegalStateException e) {
                    throw new CliException(ExitCodes.MEMBER_FAILED, e.getMessage(), List.of("fabric pilot list shows it; the log of "
                            + tasks.manager() + " says more (fabric log " + tasks.manager() + ")"));
                }
            }
            PilotWire.Pilot shown = pilot;
            show(context.json().valueToTree(shown), () -> await ? "" : shown.id() + "\n");
        }
    }

    @Command(name = "list", description = {"The pilots of the manager: state, agents, cores per agent, tasks ended of submitted, "
            + "ENDS/ENDED and why it ended.",
            "ENDS/ENDED: for a pilot that ended (DONE, FAILED or CANCELED), when it ended; for one not ended yet, when its "
                    + "runtime is over (- without a runtime, or before it is ACTIVE, when its runtime starts). -o json has both: endsAt "
                    + "and endedAt."})
    static final class ListPilots extends FabricCommand.WithOutput {

        @Option(names = "--manager", paramLabel = "ID", description = "the pilot manager member")
        String manager;

        ListPilots(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            TaskManager tasks = TaskManagers.of(context, manager, null);
            List<PilotWire.Pilot> pilots = TaskManagers.call(tasks::pilots);
            show(context.json().valueToTree(new PilotWire.Pilots(pilots)), () -> table(pilots));
        }

        static String table(List<PilotWire.Pilot> pilots) {
            Table table = new Table("ID", "STATE", "AGENTS", "CORES", "TASKS", "ENDS/ENDED", "REASON");
            for (PilotWire.Pilot pilot : pilots) {
                Map<TaskState, Long> counts = pilot.tasks() == null ? Map.of() : pilot.tasks();
                long total = counts.values().stream().mapToLong(Long::longValue).sum();
                long ended = counts.entrySet().stream().filter(e -> e.getKey().isFinal()).mapToLong(Map.Entry::getValue).sum();
                table.row(pilot.id(), pilot.state().name(), Integer.toString(pilot.agents().size()),
                        Integer.toString(pilot.description().cores()), ended + "/" + total,
                        Formats.time(end(pilot)), pilot.reason());
            }
            return table.render();
        }

        /** When it ended, once it has; until then when its runtime is over: a canceled pilot did not run to its limit. */
        static Instant end(PilotWire.Pilot pilot) {
            return pilot.state().isFinal() ? pilot.endedAt() : pilot.endsAt();
        }
    }

    @Command(name = "cancel", description = "Cancel pilots: their agents, queue and pubsub stop; their unfinished tasks are CANCELED.")
    static final class Cancel extends FabricCommand {

        @Option(names = "--manager", paramLabel = "ID", description = "the pilot manager member")
        String manager;

        @Parameters(arity = "1..*", paramLabel = "PILOT", description = "a pilot id")
        List<String> pilots;

        Cancel(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            TaskManager tasks = TaskManagers.of(context, manager, null);
            for (String id : pilots) {
                PilotWire.Pilot pilot = TaskManagers.call(() -> tasks.cancelPilot(id));
                output().line(pilot.id() + " " + pilot.state());
            }
        }
    }
}
