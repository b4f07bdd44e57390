package dev.fabric.cli.spawner;

import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.FabricHome;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code fabric stop ID}: its spawner stops the member; the registry then shows it STOPPED. */
@Command(name = "stop", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
        description = "Stop a member through its spawner (DELETE /api/v1/members/{id}); the registry then shows it STOPPED.")
public final class StopCommand implements Callable<Integer> {

    @ParentCommand
    FabricCli cli;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "the member's id")
    String id;

    @Option(names = "--spawner", paramLabel = "URL",
            description = "its spawner (default: $FABRIC_SPAWNER, else the member's spawner as the registry lists it, else "
                    + FabricHome.DEFAULT_SPAWNER + ")")
    String spawnerOption;

    @Override
    public Integer call() {
        FabricHome.Setting<String> spawner = Spawners.forMember(cli, spawnerOption, id);
        Spawners.client(cli, spawner).exchange(HttpMethod.DELETE, "/api/v1/members/{id}", null, id);
        PrintWriter out = spec.commandLine().getOut();
        out.println("stopped " + id);
        out.flush();
        return ExitCodes.OK;
    }
}
