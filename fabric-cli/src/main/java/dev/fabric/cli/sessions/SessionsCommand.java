package dev.fabric.cli.sessions;

import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.OutputFormat;
import dev.fabric.cli.instances.ServicesCommand;
import dev.fabric.cli.management.ManagementClient;
import dev.fabric.cli.management.Members;
import dev.fabric.cli.registry.InstanceList;
import dev.fabric.cli.registry.RegistryClient;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code fabric sessions add|remove|show}: session ids on members (seed 003: "each service accepts
 * requests on management port to register/de-register session IDs"). Adding and removing go to the
 * member's management port, which records them in the registry; showing reads the registry.
 */
@Command(name = "sessions", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
        description = "Register, deregister and show the session ids of members.",
        subcommands = {SessionsCommand.Add.class, SessionsCommand.Remove.class, SessionsCommand.Show.class})
public final class SessionsCommand implements Runnable {

    @ParentCommand
    FabricCli cli;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: add, remove or show");
    }

    /** A client of the member's management port, found through the registry. */
    private ManagementClient member(String id) {
        return Members.endpoint(cli, id, Members.MANAGEMENT, "only a running member takes session ids", problem -> List.of());
    }

    @Command(name = "add", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
            description = "Register a session id on a member (PUT /management/v1/sessions/{session} on its management port).")
    static final class Add implements Callable<Integer> {

        @ParentCommand
        SessionsCommand sessions;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "the member's id")
        String id;

        @Parameters(index = "1", paramLabel = "SESSION", description = "the session id")
        String session;

        @Override
        public Integer call() {
            int status = sessions.member(id).exchange(HttpMethod.PUT, "/management/v1/sessions/{session}", null, session).status();
            PrintWriter out = spec.commandLine().getOut();
            out.println(status == 201 ? "added session " + session + " to " + id : id + " already serves session " + session);
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
            description = "Deregister a session id from a member (DELETE /management/v1/sessions/{session} on its management port).")
    static final class Remove implements Callable<Integer> {

        @ParentCommand
        SessionsCommand sessions;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "the member's id")
        String id;

        @Parameters(index = "1", paramLabel = "SESSION", description = "the session id")
        String session;

        @Override
        public Integer call() {
            sessions.member(id).exchange(HttpMethod.DELETE, "/management/v1/sessions/{session}", null, session);
            PrintWriter out = spec.commandLine().getOut();
            out.println("removed session " + session + " from " + id);
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
            description = "List the members serving a session (GET /api/v1/sessions/{session} of the registry).")
    static final class Show implements Callable<Integer> {

        @ParentCommand
        SessionsCommand sessions;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "SESSION", description = "the session id")
        String session;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "table or json (the registry's answer, with its revision)")
        OutputFormat output;

        @Override
        public Integer call() {
            FabricCli cli = sessions.cli;
            RegistryClient registry = cli.registry();
            JsonNode answer = registry.sessionMembers(session);
            PrintWriter out = spec.commandLine().getOut();
            if (output == OutputFormat.json) {
                out.println(cli.json().writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            } else {
                InstanceList list = registry.decode(answer, InstanceList.class);
                if (list.instances().isEmpty()) {
                    PrintWriter err = spec.commandLine().getErr();
                    err.println("no member serves session " + session + " (registry revision " + list.revision() + ")");
                    err.flush();
                } else {
                    out.print(ServicesCommand.table(list.instances(), cli.clock().instant()));
                }
            }
            out.flush();
            return ExitCodes.OK;
        }
    }
}
