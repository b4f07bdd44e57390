package dev.fabric.cli;

import dev.fabric.cli.instances.ServiceCommand;
import dev.fabric.cli.instances.ServicesCommand;
import dev.fabric.cli.keys.KeysCommand;
import dev.fabric.cli.management.ManagementClient;
import dev.fabric.cli.queue.QueueCommand;
import dev.fabric.cli.registry.Problem;
import dev.fabric.cli.registry.RegistryClient;
import dev.fabric.cli.sessions.SessionsCommand;
import dev.fabric.cli.spawner.SpawnCommand;
import dev.fabric.cli.spawner.StopCommand;
import dev.fabric.cli.watch.WatchCommand;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.keys.FabricKeysException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code fabric}: the command-line client of the fabric registry. Plain Java and picocli, no
 * application context; each request is signed with the local fabric key.
 */
@Command(name = "fabric",
        mixinStandardHelpOptions = true,
        versionProvider = FabricCli.Version.class,
        description = "Talk to the fabric: its registry, its spawner and its members. Every request is signed with the local fabric key.",
        subcommands = {ServicesCommand.class, ServiceCommand.class, WatchCommand.class, SpawnCommand.class, StopCommand.class,
                SessionsCommand.class, QueueCommand.class, KeysCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footerHeading = "%nEnvironment:%n",
        footer = {
                "  FABRIC_REGISTRY   the registry's URL when there is no --registry; else the URL",
                "                    in $FABRIC_HOME_DIR/registry.url (written by ./fabric up);",
                "                    else " + FabricHome.DEFAULT_REGISTRY,
                "  FABRIC_SPAWNER    the spawner's URL when there is no --spawner (spawn, stop);",
                "                    else the spawner the registry lists (for stop: the",
                "                    member's own spawner); else " + FabricHome.DEFAULT_SPAWNER,
                "  FABRIC_KEYS       the key directory when there is no --keys",
                "                    (default $FABRIC_HOME_DIR/keys)",
                "  FABRIC_HOME_DIR   where ./fabric up keeps keys, data and the registry's URL",
                "                    (default ~/.fabric)",
        })
public final class FabricCli implements Runnable {

    /** The longest a plain request waits for its answer. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "--registry", paramLabel = "URL", scope = ScopeType.INHERIT,
            description = "the registry's URL (default: $FABRIC_REGISTRY, else the one ./fabric up started, else port 8470 on 127.0.0.1)")
    String registryOption;

    @Option(names = "--keys", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "the fabric key directory that signs requests (default: $FABRIC_KEYS, else $FABRIC_HOME_DIR/keys)")
    Path keysOption;

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;
    private final FabricHome home;
    /** Lenient: a newer registry may add fields, and a field the CLI does not get prints as {@code -}. */
    private final JsonMapper json = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();
    private final Clock clock;

    /**
     * @param env the environment to read {@code FABRIC_*} from
     * @param userHome where {@code ~/.fabric} is when {@code FABRIC_HOME_DIR} is not set
     */
    public FabricCli(Map<String, String> env, Path userHome, Clock clock) {
        this.env = Map.copyOf(env);
        this.home = FabricHome.of(env, userHome);
        this.clock = clock;
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
        CommandLine commandLine = new CommandLine(cli);
        Map<String, String> exitCodes = new LinkedHashMap<>();
        for (String entry : ExitCodes.HELP) {
            int colon = entry.indexOf(':');
            exitCodes.put(String.format("%4s", entry.substring(0, colon)), entry.substring(colon + 1));
        }
        commandLine.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodes);
        commandLine.setParameterExceptionHandler(FabricCli::invalidInput);
        commandLine.setExecutionExceptionHandler((exception, command, parseResult) -> failed(exception, command.getErr()));
        return commandLine;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: services, service, watch, spawn, stop, sessions, queue or keys");
    }

    /** A client for the registry, signing with the local keys; fails with a next step when there are none. */
    public RegistryClient registry() {
        FabricHome.Setting<String> url = home.registry(registryOption, env);
        FabricHome.Setting<Path> keysDir = keysDirectory();
        FabricKeys keys = loadKeys(keysDir);
        return new RegistryClient(url.value(), url.source(), keys, new RegistryClient.KeyOrigin(keysDir.value(), keys.keyId()), json,
                REQUEST_TIMEOUT);
    }

    /**
     * A client of a spawner's or a member's management API, signing with the local keys.
     *
     * @param who what is at the URL, for messages ({@code the spawner spawner-1a2b}, {@code member queue-1})
     * @param source where the URL came from ({@code given by --spawner}...)
     * @param unreachableHints what to do when nothing answers there
     */
    public ManagementClient management(String baseUrl, String who, String source, List<String> unreachableHints) {
        return management(baseUrl, who, source, unreachableHints, problem -> List.of());
    }

    /**
     * A client of a management API or of a member's own API, signing with the local keys.
     *
     * @param advice next steps for that API's own problems ({@code lease-expired}...), replacing the general ones when it has any
     */
    public ManagementClient management(String baseUrl, String who, String source, List<String> unreachableHints,
                                       Function<Problem, List<String>> advice) {
        FabricHome.Setting<Path> keysDir = keysDirectory();
        FabricKeys keys = loadKeys(keysDir);
        return new ManagementClient(baseUrl, who, source, unreachableHints, advice, keys,
                new RegistryClient.KeyOrigin(keysDir.value(), keys.keyId()), json, REQUEST_TIMEOUT);
    }

    /** {@code --spawner} (of the command at hand) or {@code $FABRIC_SPAWNER}; empty when neither says. */
    public Optional<FabricHome.Setting<String>> spawnerOverride(String option) {
        return home.spawner(option, env);
    }

    /** {@code --keys}, {@code $FABRIC_KEYS} or {@code $FABRIC_HOME_DIR/keys}, with where it came from. */
    public FabricHome.Setting<Path> keysDirectory() {
        return home.keys(keysOption, env);
    }

    /** Loads the fabric keys of a directory; a missing or unsafe key is a {@link ExitCodes#KEYS} failure that says what to do. */
    public static FabricKeys loadKeys(FabricHome.Setting<Path> directory) {
        Path dir = directory.value();
        if (!Files.exists(dir.resolve(FabricKeys.PRIVATE_KEY_FILE))) {
            throw new CliException(ExitCodes.KEYS, "no fabric keys in " + dir + " (looked for " + FabricKeys.PRIVATE_KEY_FILE + " and "
                    + FabricKeys.PUBLIC_KEY_FILE + "; the directory is " + directory.source() + ")",
                    List.of("create them with `fabric keys init` (./fabric up does it for the registry it starts),",
                            "or point --keys or $FABRIC_KEYS at the key directory of your registry"));
        }
        try {
            return FabricKeys.load(dir);
        } catch (FabricKeysException e) {
            throw new CliException(ExitCodes.KEYS, e.getMessage());
        }
    }

    public JsonMapper json() {
        return json;
    }

    public Clock clock() {
        return clock;
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
