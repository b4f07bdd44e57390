package dev.fabric.cli.commands.task;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Table;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.core.client.TaskManager;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code fabric task submit|wait|list|cancel|output}: an application's tasks on a pilot, through
 * fabric-core's task manager, within a session (docs/tasks.md). A wait killed half-way is started
 * again with the same session: it waits for the same tasks, nothing is resubmitted.
 */
@Command(name = "task",
        description = {"Submit tasks to a pilot, wait for them with a progress bar, list, cancel, and show their output (docs/tasks.md).",
                "Tasks belong to a session: --session, $FABRIC_SESSION, or 'cli'. The pilot manager is --manager, "
                        + "$FABRIC_PILOT_MANAGER, or the one RUNNING pilot-manager in the registry."},
        subcommands = {TaskCommand.Submit.class, TaskCommand.Wait.class, TaskCommand.ListTasks.class, TaskCommand.Cancel.class,
                TaskCommand.Output.class})
public final class TaskCommand extends FabricCommand.Group {

    public TaskCommand(CommandContext context) {
        super(context);
    }

    /** The options every task command shares. */
    abstract static class OnManager extends FabricCommand.WithOutput {

        @Option(names = "--manager", paramLabel = "ID", description = "the pilot manager member")
        String manager;

        @Option(names = "--session", paramLabel = "SESSION", description = "the session of the tasks (default $FABRIC_SESSION or cli)")
        String session;

        OnManager(CommandContext context) {
            super(context);
        }

        TaskManager tasks() {
            return TaskManagers.of(context, manager, session);
        }
    }

    @Command(name = "submit", description = {"Submit a command as a task to a pilot (--count N: N tasks of it, in one bulk "
            + "request per 1,000) and print the task ids, one per line.",
            "Put the command after --: fabric task submit PILOT --count 1000 -- sh -c 'echo $RANDOM'"})
    static final class Submit extends OnManager {

        @Parameters(index = "0", paramLabel = "PILOT", description = "the pilot's id (fabric pilot list)")
        String pilot;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND", description = "the program and its arguments, run without a shell")
        List<String> command;

        @Option(names = "--count", paramLabel = "N", defaultValue = "1", description = "how many tasks of this command (default 1)")
        int count;

        @Option(names = "--name", paramLabel = "NAME", description = "a label for the tasks")
        String name;

        @Option(names = "--time-limit", paramLabel = "D", description = "how long each may run, e.g. 30s or 5m (default: no limit)")
        String timeLimit;

        @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "an environment variable of the tasks (repeatable)")
        Map<String, String> environment = new LinkedHashMap<>();

        @Option(names = {"-C", "--workdir"}, paramLabel = "DIR", description = "the working directory, relative to each task's sandbox")
        String workingDirectory;

        Submit(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            if (count < 1) {
                throw new CliException(ExitCodes.USAGE, "--count must be 1 or more, not " + count);
            }
            TaskManager tasks = tasks();
            List<TaskDescription> descriptions = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                descriptions.add(new TaskDescription(null, pilot, command, environment, workingDirectory, timeLimit, name));
            }
            List<String> ids = TaskManagers.call(() -> tasks.submit(pilot, descriptions));
            show(context.json().valueToTree(Map.of("ids", ids)), () -> String.join("\n", ids) + "\n");
        }
    }

    @Command(name = "wait", description = {"Wait until tasks end: the given ids, or with none every unfinished task of the "
            + "session (of --pilot only, when given). On a terminal a progress bar shows done, failed and total, the rate and "
            + "the time left; otherwise a plain line each second. Then a summary line per state.",
            "Exits 0 when all ended (whatever their state), 4 when some had not ended at --timeout."})
    static final class Wait extends OnManager {

        @Parameters(arity = "0..*", paramLabel = "ID", description = "task ids")
        List<String> ids = new ArrayList<>();

        @Option(names = "--pilot", paramLabel = "PILOT", description = "only the tasks of this pilot")
        String pilot;

        @Option(names = "--timeout", paramLabel = "D", converter = DurationConverter.class, defaultValue = "24h",
                description = "how long to wait (default 24h)")
        Duration timeout;

        @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
                description = "bar, lines, or auto: a bar on a terminal, lines otherwise (default auto)")
        String progress;

        Wait(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() throws InterruptedException {
            TaskManager tasks = tasks();
            List<String> waited = ids;
            if (waited.isEmpty()) {
                List<PilotWire.Task> known = TaskManagers.call(tasks::list);
                waited = known.stream().filter(t -> pilot == null || pilot.equals(t.pilot())).map(PilotWire.Task::id).toList();
            }
            boolean bar = switch (progress.toLowerCase(Locale.ROOT)) {
                case "bar" -> true;
                case "lines" -> false;
                case "auto" -> Progress.onTerminal();
                default -> throw new CliException(ExitCodes.USAGE, "--progress is bar, lines or auto, not '" + progress + "'");
            };
            PrintWriter err = spec.commandLine().getErr();
            Progress shown = new Progress(err, bar, context.clock(), waited.size());
            List<String> all = waited;
            TaskManager.Outcome outcome = TaskManagers.await(() -> tasks.waitAll(all, timeout, shown::ended),
                    "interrupted: run the same fabric task wait again to go on waiting");
            shown.finish();
            Map<TaskState, Long> byState = new LinkedHashMap<>();
            outcome.finished().forEach(t -> byState.merge(t.state(), 1L, Long::sum));
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("ended", outcome.finished().size());
            summary.put("states", byState);
            summary.put("pending", outcome.pending());
            show(context.json().valueToTree(summary), () -> {
                StringBuilder text = new StringBuilder();
                byState.forEach((state, n) -> text.append(state).append(' ').append(n).append('\n'));
                return text.toString();
            });
            if (!outcome.complete()) {
                throw new CliException(ExitCodes.MEMBER_FAILED, outcome.pending().size() + " of " + all.size() + " tasks had not ended after "
                        + DurationConverter.format(timeout), List.of("run fabric task wait again to go on waiting"));
            }
        }
    }

    @Command(name = "list", description = "The tasks of a pilot (or, without one, of the session): id, state, reason, exit status, agent.")
    static final class ListTasks extends OnManager {

        @Parameters(arity = "0..1", paramLabel = "PILOT", description = "the pilot's id")
        String pilot;

        @Option(names = "--state", paramLabel = "STATE", description = "only tasks in this state: NEW, QUEUED, RUNNING, DONE, FAILED, CANCELED")
        String state;

        ListTasks(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            TaskManager tasks = tasks();
            TaskState wanted = state == null ? null : state(state);
            List<PilotWire.Task> listed = TaskManagers.call(() -> pilot == null
                    ? tasks.list().stream().filter(t -> wanted == null || t.state() == wanted).toList()
                    : tasks.list(pilot, wanted));
            show(context.json().valueToTree(new PilotWire.Tasks(listed, 0)), () -> {
                Table table = new Table("ID", "STATE", "REASON", "EXIT", "AGENT", "ENDED");
                for (PilotWire.Task task : listed) {
                    table.row(task.id(), task.state().name(), task.reason(), task.exitStatus() == null ? null : task.exitStatus().toString(),
                            task.agent(), task.finishedAt() == null ? null : Formats.time(task.finishedAt()));
                }
                return table.render();
            });
        }

        private static TaskState state(String value) {
            try {
                return TaskState.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CliException(ExitCodes.USAGE, "--state is one of " + Arrays.toString(TaskState.values()) + ", not '" + value + "'");
            }
        }
    }

    @Command(name = "cancel", description = "Cancel tasks: one no agent holds at once (withdrawn from the queue), one an agent holds by that agent.")
    static final class Cancel extends OnManager {

        @Parameters(arity = "1..*", paramLabel = "ID", description = "task ids")
        List<String> ids;

        Cancel(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            TaskManager tasks = tasks();
            for (String id : ids) {
                PilotWire.Task task = TaskManagers.call(() -> tasks.cancel(id));
                output().line(task.id() + " " + task.state());
            }
        }
    }

    @Command(name = "output", description = {"What a finished task printed: its stdout on stdout, its stderr on stderr "
            + "(-o json: both, with the exit status and truncation flags).", "A task that never ran has none (task-not-run)."})
    static final class Output extends OnManager {

        @Parameters(paramLabel = "ID", description = "a task id")
        String id;

        Output(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            TaskManager tasks = tasks();
            PilotWire.Output printed = TaskManagers.call(() -> tasks.output(id));
            show(context.json().valueToTree(printed), () -> {
                if (!printed.stderr().isEmpty()) {
                    spec.commandLine().getErr().print(printed.stderr());
                    spec.commandLine().getErr().flush();
                }
                // The notes go to stderr, after the task's own: its stdout stays its data alone.
                if (printed.stdoutTruncated()) {
                    output().note("fabric: task " + id + "'s stdout was cut at the agent's output limit");
                }
                if (printed.stderrTruncated()) {
                    output().note("fabric: task " + id + "'s stderr was cut at the agent's output limit");
                }
                return printed.stdout();
            });
        }
    }
}
