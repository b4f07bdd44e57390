package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fabric stop ID}: its spawner stops the member; the registry then shows it STOPPED. */
@Command(name = "stop",
        description = "Stop a member through its spawner (DELETE /api/v1/members/{id}); the registry then shows it STOPPED.")
public final class StopCommand extends FabricCommand {

    @Parameters(paramLabel = "ID", description = "the member's id")
    String id;

    @Option(names = "--spawner", paramLabel = "URL",
            description = "its spawner (default: $FABRIC_SPAWNER, else the member's spawner as the registry lists it, else "
                    + FabricHome.DEFAULT_SPAWNER + ")")
    String spawnerOption;

    public StopCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() {
        FabricHome.Setting<String> spawner = Spawners.forMember(context, spawnerOption, id);
        Spawners.endpoint(context, spawner).send(HttpMethod.DELETE, "/api/v1/members/{id}", null, id);
        output().line("stopped " + id);
    }
}
