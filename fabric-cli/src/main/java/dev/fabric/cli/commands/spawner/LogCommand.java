package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.cli.http.FabricEndpoint;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/**
 * {@code fabric log ID}: the end of a member's log, read by the launcher that runs it wherever it
 * runs (a local process, a host reached over SSH), through the node that supervises it.
 */
@Command(name = "log",
        description = "Print the end of a member's log (every incarnation's output) as its spawner's launcher captured it "
                + "(GET /api/v1/members/{id}/log).")
public final class LogCommand extends FabricCommand.WithOutput {

    @Parameters(paramLabel = "ID", description = "the member's id")
    String id;

    @Option(names = "--bytes", paramLabel = "N", defaultValue = "65536",
            description = "how much of the end to print, 1 to 1048576 (default ${DEFAULT-VALUE})")
    int bytes;

    @Option(names = "--spawner", paramLabel = "URL",
            description = "the node that supervises it (default: $FABRIC_SPAWNER, else its supervisor as the registry lists it, else "
                    + FabricHome.DEFAULT_SPAWNER + ")")
    String spawnerOption;

    public LogCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() {
        FabricHome.Setting<String> spawner = Spawners.forMember(context, spawnerOption, id);
        FabricEndpoint.Answer answer = Spawners.endpoint(context, spawner)
                .send(HttpMethod.GET, uri -> uri.path("/api/v1/members/{id}/log").queryParam("bytes", bytes).build(id), null);
        JsonNode log = answer.body();
        show(log, () -> {
            if (log.path("truncated").asBoolean(false)) {
                output().note("(the last " + bytes + " of " + log.path("size").asLong() + " bytes of " + log.path("file").asString("") + ")");
            }
            String text = log.path("text").asString("");
            return text.isEmpty() || text.endsWith("\n") ? text : text + "\n";
        });
    }
}
