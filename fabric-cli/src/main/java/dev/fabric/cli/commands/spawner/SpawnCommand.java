package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.core.registry.Connectivity;
import org.springframework.http.HttpMethod;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code fabric spawn TYPE}: a new member of a role, through a spawner; with {@code --wait}, until it runs. */
@Command(name = "spawn",
        description = {"Spawn a new member of a role through a spawner (POST /api/v1/spawns) and print its id.",
                "The spawner answers once it has started the member, which can take a while (a starting slot to wait for,",
                "the distribution to stage on an SSH host): the CLI waits for that answer up to --timeout.",
                "With --wait, follow its bootstrap in the registry (each step on stderr) until it is RUNNING;",
                "exit 9 with the reason if it ends FAILED, LOST or STOPPED, or is not RUNNING within --timeout."})
public final class SpawnCommand extends FabricCommand {

    /** The connectivity modes a spawner offers, for the help text and shell completion. */
    static final class Modes implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Connectivity.values()).map(Connectivity::name).iterator();
        }
    }

    /** Any case, '-' for '_': {@code firewall-to-service} is FIREWALL_TO_SERVICE. The spawner decides which modes it offers. */
    public static final class ConnectivityConverter implements CommandLine.ITypeConverter<Connectivity> {
        @Override
        public Connectivity convert(String value) {
            try {
                return Connectivity.valueOf(value.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a connectivity mode; use one of " + String.join(", ", new Modes()));
            }
        }
    }

    @Parameters(paramLabel = "TYPE", description = "the role of the new member, e.g. queue")
    String type;

    @Option(names = "--name", paramLabel = "N", description = "a human name for it")
    String name;

    @Option(names = "--connectivity", paramLabel = "MODE", converter = ConnectivityConverter.class, completionCandidates = Modes.class,
            description = "who dials whom at bootstrap: ${COMPLETION-CANDIDATES} (default DIRECT)")
    Connectivity connectivity;

    @Option(names = "--cpu", paramLabel = "Q", description = "its CPU, as Kubernetes writes it: 500m, 2 (default: the spawner's, 500m)")
    String cpu;

    @Option(names = "--memory", paramLabel = "Q", description = "its memory, as Kubernetes writes it: 256Mi, 1Gi (default: the spawner's, 256Mi)")
    String memory;

    @Option(names = "--config", paramLabel = "KEY=VALUE", description = "its role's configuration; repeat for more")
    Map<String, String> config;

    @Option(names = "--host", paramLabel = "H",
            description = "start it on H, a host the spawner reaches over SSH (its fabric.spawner.ssh.hosts; default: where the spawner starts members)")
    String host;

    @Option(names = "--wait", description = "follow it until it is RUNNING (or FAILED)")
    boolean await;

    @Option(names = "--timeout", paramLabel = "D", converter = DurationConverter.class,
            description = {"how long the spawn may take, e.g. 90s, 5m (default 2m): the spawner's answer, which comes once it has",
                    "started the member, and with --wait the bootstrap until RUNNING, together; exit 9 when the time runs out"})
    Duration timeout;

    @Option(names = "--parent", paramLabel = "ID",
            description = {"spawn it through the member ID (every member spawns): its management port, found in the registry,",
                    "reached through its bridge when it has one; the new member's parent is ID, which restarts it"})
    String parent;

    @Option(names = "--spawner", paramLabel = "URL",
            description = "the spawner (default: $FABRIC_SPAWNER, else the spawner the registry lists, else " + FabricHome.DEFAULT_SPAWNER + ")")
    String spawnerOption;

    public SpawnCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() throws InterruptedException {
        if (parent != null && spawnerOption != null) {
            throw new ParameterException(spec.commandLine(), "--parent and --spawner both name who spawns: give one");
        }
        FabricEndpoint spawner;
        String source;
        if (parent != null) {
            spawner = context.member(parent, "management", "only a RUNNING member spawns", problem -> List.of());
            source = "member " + parent + " (--parent)";
        } else {
            FabricHome.Setting<String> setting = Spawners.forSpawn(context, spawnerOption);
            spawner = Spawners.endpoint(context, setting);
            source = "the spawner at " + setting.value() + " (" + setting.source() + ")";
        }
        // The spawner answers once the member is started: the answer may take as long as the command's
        // time allows, not the plain request timeout, and the wait for RUNNING gets what is left of it.
        Duration limit = timeout == null ? Spawners.LAUNCH_TIMEOUT : timeout;
        long deadline = System.nanoTime() + limit.toNanos();
        List<String> whereItIs = List.of("`fabric services --type " + type + (parent == null ? "" : " --parent " + parent)
                        + "` lists the role's members: the new one is PENDING while it waits for a starting slot",
                "or while its distribution is staged on its host; `fabric service ID` shows its steps;",
                "a spawn takes long on a busy spawner or an SSH host: give it more time with --timeout (it was "
                        + DurationConverter.format(limit) + ")");
        JsonNode answer = spawner.launch(HttpMethod.POST, "/api/v1/spawns", request(),
                new FabricEndpoint.Launch(limit, "the spawn", whereItIs)).body();
        String id = answer == null ? "" : answer.path("id").asString("");
        if (id.isEmpty()) {
            throw new CliException(ExitCodes.SERVER_ERROR, source + " accepted the spawn but named no member",
                    List.of("is it a fabric node as new as this CLI?"));
        }
        // The id first, at once: a script has it even when the wait then fails.
        output().line(id);
        if (await) {
            MemberWait.awaitRunning(context.registry(), output(), id, 1, limit, deadline);
        }
    }

    private ObjectNode request() {
        ObjectNode body = context.json().createObjectNode();
        body.put("type", type);
        if (name != null) {
            body.put("name", name);
        }
        if (connectivity != null) {
            body.put("connectivity", connectivity.name());
        }
        if (cpu != null || memory != null) {
            ObjectNode resources = body.putObject("resources");
            if (cpu != null) {
                resources.put("cpu", cpu);
            }
            if (memory != null) {
                resources.put("memory", memory);
            }
        }
        if (config != null && !config.isEmpty()) {
            ObjectNode entries = body.putObject("config");
            config.forEach(entries::put);
        }
        if (host != null) {
            body.put("host", host);
        }
        return body;
    }
}
