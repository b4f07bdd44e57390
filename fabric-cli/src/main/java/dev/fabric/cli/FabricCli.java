package dev.fabric.cli;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.commands.console.ConsoleCommand;
import dev.fabric.cli.commands.instances.ServiceCommand;
import dev.fabric.cli.commands.instances.ServicesCommand;
import dev.fabric.cli.commands.keys.KeysCommand;
import dev.fabric.cli.commands.pilot.PilotCommand;
import dev.fabric.cli.commands.pubsub.PubSubCommand;
import dev.fabric.cli.commands.queue.QueueCommand;
import dev.fabric.cli.commands.task.TaskCommand;
import dev.fabric.cli.commands.sessions.SessionsCommand;
import dev.fabric.cli.commands.spawner.SpawnCommand;
import dev.fabric.cli.commands.spawner.RestartCommand;
import dev.fabric.cli.commands.spawner.LogCommand;
import dev.fabric.cli.commands.spawner.StopCommand;
import dev.fabric.cli.commands.watch.WatchCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code fabric}: the command-line client of the fabric. Plain Java and picocli, no application
 * context; each request is signed with the local fabric key.
 *
 * <p>This root declares the global options, the help and the error handling; the commands live in
 * {@code commands/} and get a {@link CommandContext} by constructor through this class's factory.
 * Packages depend downwards only: root, {@code commands}, {@code context}, {@code registry},
 * {@code http}, {@code common} ({@code ArchitectureTest} holds the line).
 */
@Command(name = "fabric",
        // --help and --version on every command, declared here once.
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = FabricCli.Version.class,
        description = "Talk to the fabric: its registry, its spawner and its members. Every request is signed with the local fabric key.",
        subcommands = {ServicesCommand.class, ServiceCommand.class, WatchCommand.class, SpawnCommand.class, RestartCommand.class, StopCommand.class, LogCommand.class,
                SessionsCommand.class, QueueCommand.class, PubSubCommand.class, PilotCommand.class, TaskCommand.class, KeysCommand.class, ConsoleCommand.class},
        synopsisSubcommandLabel = "COMMAND")
public final class FabricCli implements Runnable {

    /** The root's help only: with scope = INHERIT, a footer in the annotation would end every command's help. */
    private static final String[] ENVIRONMENT = {
            "  FABRIC_REGISTRY   the registry's URL when there is no --registry; else the URL",
            "                    in $FABRIC_HOME_DIR/registry.url (written by ./fabric up);",
            "                    else " + FabricHome.DEFAULT_REGISTRY,
            "  FABRIC_SPAWNER    the spawner's URL when there is no --spawner (spawn, stop,",
            "                    log); else the spawner the registry lists (for stop and",
            "                    log: the member's own node); else " + FabricHome.DEFAULT_SPAWNER,
            "  FABRIC_PILOT_MANAGER  the pilot manager's id when there is no --manager",
            "                    (pilot, task); else the one RUNNING pilot-manager member",
            "  FABRIC_SESSION    the tasks' session when there is no --session (task);",
            "                    else cli",
            "  FABRIC_KEYS       the key directory when there is no --keys",
            "                    (default $FABRIC_HOME_DIR/keys)",
            "  FABRIC_HOME_DIR   where ./fabric up keeps keys, data and the registry's URL",
            "                    (default ~/.fabric)",
    };

    @Option(names = "--registry", paramLabel = "URL", scope = ScopeType.INHERIT,
            description = "the registry's URL (default: $FABRIC_REGISTRY, else the one ./fabric up started, else port 8470 on 127.0.0.1)")
    String registryOption;

    @Option(names = "--keys", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "the fabric key directory that signs requests (default: $FABRIC_KEYS, else $FABRIC_HOME_DIR/keys)")
    Path keysOption;

    @Spec
    CommandSpec spec;

    private final CommandContext context;

    /**
     * @param env the environment to read {@code FABRIC_*} from
     * @param userHome where {@code ~/.fabric} is when {@code FABRIC_HOME_DIR} is not set
     */
    public FabricCli(Map<String, String> env, Path userHome, Clock clock) {
        this(env, userHome, clock, CommandContext.REQUEST_TIMEOUT);
    }

    /** @param requestTimeout the longest a plain request waits for its answer (tests shorten it) */
    public FabricCli(Map<String, String> env, Path userHome, Clock clock, Duration requestTimeout) {
        this.context = new CommandContext(env, FabricHome.of(env, userHome), clock, () -> registryOption, () -> keysOption, requestTimeout);
    }

    public static void main(String[] args) {
        CommandLine commandLine = commandLine(new FabricCli(System.getenv(), Path.of(System.getProperty("user.home")), Clock.systemUTC()));
        // Ctrl-C: interrupt the command (a watch stops reading and closes its stream) and let it finish
        // its output before the JVM ends; the exit status is then 130 as for any program ended by SIGINT.
        Thread main = Thread.currentThread();
        CountDownLatch finished = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            main.interrupt();
            try {
                finished.await(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "fabric-cli-shutdown"));
        int exitCode = commandLine.execute(args);
        finished.countDown();
        System.exit(exitCode);
    }

    /** The command line with the CLI's error handling and exit codes; tests run commands through it. */
    public static CommandLine commandLine(FabricCli cli) {
        CommandLine commandLine = new CommandLine(cli, new Factory(cli.context));
        Map<String, String> exitCodes = new LinkedHashMap<>();
        for (String entry : ExitCodes.HELP) {
            int colon = entry.indexOf(':');
            exitCodes.put(String.format("%4s", entry.substring(0, colon)), entry.substring(colon + 1));
        }
        commandLine.getCommandSpec().usageMessage()
                .footerHeading("%nEnvironment:%n").footer(ENVIRONMENT)
                .exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodes);
        commandLine.setParameterExceptionHandler(FabricCli::invalidInput);
        commandLine.setExecutionExceptionHandler((exception, command, parseResult) -> failed(exception, command.getErr()));
        return commandLine;
    }

    @Override
    public void run() {
        throw FabricCommand.missingCommand(spec);
    }

    private static int invalidInput(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("fabric: " + e.getMessage());
        if (!UnmatchedArgumentException.printSuggestions(e, err)) {
            err.println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
        }
        err.flush();
        return ExitCodes.USAGE;
    }

    private static int failed(Exception exception, PrintWriter err) {
        if (Thread.currentThread().isInterrupted()) {
            // Ctrl-C during a request: whatever failed, it failed because we stopped it.
            return ExitCodes.INTERRUPTED;
        }
        if (exception instanceof CliException failure) {
            err.println("fabric: " + failure.getMessage());
            failure.hints().forEach(hint -> err.println("  " + hint));
            err.flush();
            return failure.exitCode();
        }
        err.println("fabric: unexpected error (a bug in the CLI; please report it): " + exception);
        exception.printStackTrace(err);
        err.flush();
        return ExitCodes.INTERNAL;
    }

    /** Makes every command with its {@link CommandContext}; anything else (converters, completion candidates) as picocli would. */
    private record Factory(CommandContext context) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            if (FabricCommand.class.isAssignableFrom(type)) {
                Constructor<K> constructor = type.getDeclaredConstructor(CommandContext.class);
                constructor.setAccessible(true);
                return constructor.newInstance(context);
            }
            return CommandLine.defaultFactory().create(type);
        }
    }

    /** The version of this build, from {@code fabric-cli.properties} (filled in by Maven). */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (InputStream in = FabricCli.class.getResourceAsStream("/fabric-cli.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            }
            return new String[] {"fabric " + properties.getProperty("version", "(unknown version)")
                    + " (Java " + Runtime.version() + ")"};
        }
    }
}
