package dev.fabric.cli.commands.sessions;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.commands.instances.ServicesCommand;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;
import org.springframework.http.HttpMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.List;

/**
 * {@code fabric sessions add|remove|show}: session ids on members, which every member takes on its
 * management port (PUT and DELETE {@code /management/v1/sessions/{session}}) and records in the
 * registry; showing reads the registry.
 */
@Command(name = "sessions",
        description = "Register, deregister and show the session ids of members.",
        subcommands = {SessionsCommand.Add.class, SessionsCommand.Remove.class, SessionsCommand.Show.class})
public final class SessionsCommand extends FabricCommand.Group {

    private static final String PATH = "/management/v1/sessions/{session}";

    public SessionsCommand(CommandContext context) {
        super(context);
    }

    /** Add and remove: one request to the member's management port, found through the registry. */
    abstract static class Change extends FabricCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "the member's id")
        String id;

        @Parameters(index = "1", paramLabel = "SESSION", description = "the session id")
        String session;

        Change(CommandContext context) {
            super(context);
        }

        /** The status of the member's answer. */
        int send(HttpMethod method) {
            FabricEndpoint member = context.member(id, Registry.MANAGEMENT, "only a running member takes session ids", problem -> List.of());
            return member.send(method, PATH, null, session).status();
        }
    }

    @Command(name = "add",
            description = "Register a session id on a member (PUT /management/v1/sessions/{session} on its management port).")
    static final class Add extends Change {

        Add(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            int status = send(HttpMethod.PUT);
            output().line(status == 201 ? "added session " + session + " to " + id : id + " already serves session " + session);
        }
    }

    @Command(name = "remove",
            description = "Deregister a session id from a member (DELETE /management/v1/sessions/{session} on its management port).")
    static final class Remove extends Change {

        Remove(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            send(HttpMethod.DELETE);
            output().line("removed session " + session + " from " + id);
        }
    }

    @Command(name = "show",
            description = "List the members serving a session (GET /api/v1/sessions/{session} of the registry); -o json prints "
                    + "the registry's answer with its revision.")
    static final class Show extends FabricCommand.WithOutput {

        @Parameters(paramLabel = "SESSION", description = "the session id")
        String session;


        Show(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            Registry registry = context.registry();
            JsonNode answer = registry.sessionMembers(session);
            show(answer, () -> {
                RegistryWire.Instances list = registry.decode(answer, RegistryWire.Instances.class);
                if (list.instances().isEmpty()) {
                    output().note("no member serves session " + session + " (registry revision " + list.revision() + ")");
                    return "";
                }
                return ServicesCommand.table(list.instances(), context.clock().instant());
            });
        }
    }
}
