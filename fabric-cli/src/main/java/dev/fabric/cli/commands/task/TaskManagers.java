package dev.fabric.cli.commands.task;

import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;
import dev.fabric.core.client.FabricClientException;
import dev.fabric.core.client.MemberRefusedException;
import dev.fabric.core.client.TaskManager;
import dev.fabric.core.registry.RegistryCallException;

import java.util.List;
import java.util.function.Supplier;

/**
 * How {@code fabric pilot} and {@code fabric task} reach a pilot manager: the member {@code --manager}
 * or {@code $FABRIC_PILOT_MANAGER} names, else the one RUNNING {@code pilot-manager} in the registry;
 * the session {@code --session}, {@code $FABRIC_SESSION} or {@code cli}. Their calls go through
 * fabric-core's task manager, and its refusals become the CLI's errors.
 */
public final class TaskManagers {

    static final String MANAGER_ENV = "FABRIC_PILOT_MANAGER";
    static final String SESSION_ENV = "FABRIC_SESSION";
    static final String DEFAULT_SESSION = "cli";

    private TaskManagers() {}

    /** The task manager of the session on the pilot manager. */
    public static TaskManager of(CommandContext context, String managerOption, String sessionOption) {
        String manager = managerOption != null ? managerOption : context.env(MANAGER_ENV, null);
        if (manager == null) {
            manager = onlyManager(context);
        }
        String session = sessionOption != null ? sessionOption : context.env(SESSION_ENV, DEFAULT_SESSION);
        String chosen = manager;
        return call(() -> context.fabricClient().tasks(chosen, session));
    }

    private static String onlyManager(CommandContext context) {
        Registry registry = context.registry();
        RegistryWire.Instances running = registry.decode(registry.instances(new RegistryWire.Filter(TaskManager.ROLE, "RUNNING", null, null)),
                RegistryWire.Instances.class);
        List<String> ids = running.instances().stream().map(RegistryWire.Instance::id).toList();
        if (ids.isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "no pilot manager is RUNNING in the registry at " + registry.baseUrl(),
                    List.of("spawn one: fabric spawn pilot-manager --wait (docs/tasks.md)"));
        }
        if (ids.size() > 1) {
            throw new CliException(ExitCodes.USAGE, "several pilot managers are RUNNING: " + String.join(", ", ids),
                    List.of("name one with --manager ID or $" + MANAGER_ENV));
        }
        return ids.getFirst();
    }

    /** A task manager's wait, which may be interrupted (Ctrl-C). */
    @FunctionalInterface
    public interface Wait<T> {
        T get() throws InterruptedException;
    }

    /** Runs a task manager's wait as {@link #call} runs a call; interrupted, it is exit 130 with {@code whenInterrupted}. */
    public static <T> T await(Wait<T> wait, String whenInterrupted) {
        return call(() -> {
            try {
                return wait.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCodes.INTERRUPTED, whenInterrupted);
            }
        });
    }

    /** Runs a task manager call, turning its failures into the CLI's errors. */
    public static <T> T call(Supplier<T> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) {
            // The task manager's own check of an argument (an id that cannot be one), before anything was sent.
            throw new CliException(ExitCodes.USAGE, e.getMessage());
        } catch (MemberRefusedException e) {
            // (its message already ends with the problem's reason and status)
            throw new CliException(ExitCodes.forStatus(e.status()), e.getMessage());
        } catch (FabricClientException e) {
            throw new CliException(ExitCodes.UNREACHABLE, e.getMessage(),
                    List.of("`fabric service " + e.memberId() + "` shows its state"));
        } catch (RegistryCallException e) {
            throw new CliException(e.status() > 0 ? ExitCodes.forStatus(e.status()) : ExitCodes.UNREACHABLE, e.getMessage());
        }
    }
}
