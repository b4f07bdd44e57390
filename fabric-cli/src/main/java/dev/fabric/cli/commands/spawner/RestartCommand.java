package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.registry.RegistryWire;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@code fabric restart ID}: the node that supervises the member starts a new incarnation under its id. */
@Command(name = "restart",
        description = {"Restart a member under its id (POST /api/v1/members/{id}/restart) through",
                "the node that supervises it: a live old incarnation is stopped first, then a",
                "new one starts and recovers the member's state. Prints `restarted ID as",
                "incarnation N`. With --incarnation N only if it is still at N (two callers",
                "that saw the same death restart it once); else it prints where it is and",
                "restarts nothing. With --wait, follow the new incarnation's bootstrap in the",
                "registry (each step on stderr) until it is RUNNING; exit 9 with the reason if",
                "it ends FAILED, LOST or STOPPED, or is not RUNNING within --timeout."})
public final class RestartCommand extends FabricCommand {

    @Parameters(paramLabel = "ID", description = "the member's id")
    String id;

    @Option(names = "--incarnation", paramLabel = "N", description = "restart it only if it is still at incarnation N (1 or more)")
    Long incarnation;

    @Option(names = "--wait", description = "follow the new incarnation until it is RUNNING (or FAILED)")
    boolean await;

    @Option(names = "--timeout", paramLabel = "D", converter = DurationConverter.class,
            description = {"how long the restart may take, e.g. 90s, 5m (default 2m): the spawner's answer, which comes once it has",
                    "started the new incarnation, and with --wait the bootstrap until RUNNING, together; exit 9 when the time runs out"})
    Duration timeout;

    @Option(names = "--spawner", paramLabel = "URL",
            description = "the node that supervises it (default: $FABRIC_SPAWNER, else its supervisor as the registry lists it, else "
                    + FabricHome.DEFAULT_SPAWNER + ")")
    String spawnerOption;

    public RestartCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() throws InterruptedException {
        if (incarnation != null && incarnation < 1) {
            throw new ParameterException(spec.commandLine(), "--incarnation must be 1 or more, not " + incarnation);
        }
        if (incarnation != null) {
            // The spawner answers a restart that found the member past N with the member as it is, which
            // may be at N + 1 too: whether this request restarted it is read in the registry first.
            RegistryWire.Instance member = context.registry().member(id);
            if (member.incarnation() != incarnation) {
                notRestarted(member.incarnation(), member.state());
                return;
            }
        }
        FabricHome.Setting<String> spawner = Spawners.forMember(context, spawnerOption, id);
        // As a spawn, the spawner answers once the new incarnation is started.
        Duration limit = timeout == null ? Spawners.LAUNCH_TIMEOUT : timeout;
        long deadline = System.nanoTime() + limit.toNanos();
        FabricEndpoint.Launch launch = new FabricEndpoint.Launch(limit, "the restart of " + id, List.of(
                "`fabric service " + id + "` shows where it is: its new incarnation is PENDING while it waits for a starting slot",
                "or while its distribution is staged on its host; give it more time with --timeout (it was " + DurationConverter.format(limit) + ")"));
        JsonNode answer = Spawners.endpoint(context, spawner).launch(HttpMethod.POST,
                uri -> uri.path("/api/v1/members/{id}/restart").queryParamIfPresent("incarnation", Optional.ofNullable(incarnation)).build(id),
                null, launch).body();
        long now = answer.path("incarnation").asLong();
        if (incarnation != null && now != incarnation + 1) {
            // Someone else restarted it meanwhile: the spawner answered with the member as it is.
            notRestarted(now, answer.path("state").asString(""));
            return;
        }
        output().line("restarted " + id + " as incarnation " + now);
        if (await) {
            MemberWait.awaitRunning(context.registry(), output(), id, now, limit, deadline);
        }
    }

    private void notRestarted(long now, String state) {
        output().line(id + " is at incarnation " + now + " (" + state + "), not " + incarnation + ": not restarted");
    }
}
