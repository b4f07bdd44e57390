package dev.fabric.cli.commands.console;

import dev.fabric.cli.commands.spawner.Spawners;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.registry.Registry;
import org.springframework.http.HttpMethod;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What the console's pages ask of the fabric, each a request signed here with the user's keys,
 * exactly as the commands of the same names make it: a member's details, its role's status, and the
 * actions spawn, stop, restart, add and remove a session. Failures are the CLI's own
 * {@link CliException}s, which the server turns into answers the page shows.
 */
final class ConsoleActions {

    /** Ids and role names as the fabric writes them; anything else never reaches a URL. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** How much of a member's log its page shows. */
    private static final int LOG_BYTES = 65536;

    private final CommandContext context;
    private final Registry registry;

    ConsoleActions(CommandContext context, Registry registry) {
        this.context = context;
        this.registry = registry;
    }

    /** The instance, its session ids and its state history, from the registry. */
    ObjectNode member(String id) {
        requireName(id, "member id");
        ObjectNode details = context.json().createObjectNode();
        details.set("instance", registry.instance(id));
        details.set("sessions", registry.sessions(id));
        details.set("history", registry.history(id));
        return details;
    }

    /** {@code GET /management/v1/status} on the member's management port: who it is, its phase, its role's status. */
    JsonNode status(String id) {
        requireName(id, "member id");
        return management(id, "only a running member answers on its management port").send(HttpMethod.GET, "/management/v1/status", null).body();
    }

    /** {@code GET /api/v1/members/{id}/log} on the node that supervises it, as {@code fabric log}: the end of its log. */
    JsonNode log(String id) {
        requireName(id, "member id");
        return Spawners.endpoint(context, Spawners.forMember(context, null, id))
                .send(HttpMethod.GET, uri -> uri.path("/api/v1/members/{id}/log").queryParam("bytes", LOG_BYTES).build(id), null).body();
    }

    /** {@code POST /api/v1/spawns} on the spawner {@code fabric spawn} would use; the new member's id. */
    String spawn(String type, String name) {
        requireName(type, "role");
        ObjectNode request = context.json().createObjectNode().put("type", type);
        if (name != null && !name.isBlank()) {
            requireName(name, "name");
            request.put("name", name);
        }
        FabricHome.Setting<String> spawner = Spawners.forSpawn(context, null);
        // The spawner answers once the member is started: as long as `fabric spawn` waits, not the plain 30 s.
        JsonNode answer = Spawners.endpoint(context, spawner).launch(HttpMethod.POST, "/api/v1/spawns", request,
                new FabricEndpoint.Launch(Spawners.LAUNCH_TIMEOUT, "the spawn", List.of("the tree shows the role's new member, PENDING while "
                        + "it waits for a starting slot or its distribution is staged on its host (`fabric services --type " + type + "`)"))).body();
        String id = answer == null ? "" : answer.path("id").asString("");
        if (id.isEmpty()) {
            throw new CliException(ExitCodes.SERVER_ERROR, "the spawner at " + spawner.value() + " accepted the spawn but named no member");
        }
        return id;
    }

    /** {@code DELETE /api/v1/members/{id}} on the member's own spawner, as {@code fabric stop}. */
    void stop(String id) {
        requireName(id, "member id");
        Spawners.endpoint(context, Spawners.forMember(context, null, id)).send(HttpMethod.DELETE, "/api/v1/members/{id}", null, id);
    }

    /** {@code POST /api/v1/members/{id}/restart} on the member's own spawner: a new incarnation under the same id. */
    void restart(String id) {
        requireName(id, "member id");
        // The spawner answers once the new incarnation is started, as for a spawn.
        Spawners.endpoint(context, Spawners.forMember(context, null, id)).launch(HttpMethod.POST, "/api/v1/members/{id}/restart", null,
                new FabricEndpoint.Launch(Spawners.LAUNCH_TIMEOUT, "the restart of " + id, List.of("its page shows its state: its new "
                        + "incarnation is PENDING while it waits for a starting slot or is staged on its host (`fabric service " + id + "`)")),
                id);
    }

    /** PUT or DELETE {@code /management/v1/sessions/{session}} on the member's management port, as {@code fabric sessions}. */
    void session(String id, String session, boolean add) {
        requireName(id, "member id");
        requireName(session, "session id");
        management(id, "only a running member takes session ids")
                .send(add ? HttpMethod.PUT : HttpMethod.DELETE, "/management/v1/sessions/{session}", null, session);
    }

    private FabricEndpoint management(String id, String purpose) {
        return context.member(id, Registry.MANAGEMENT, purpose, problem -> List.of());
    }

    private static void requireName(String value, String what) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new CliException(ExitCodes.USAGE, "'" + (value == null ? "" : value) + "' is not a " + what
                    + ": letters, digits, '.', '_' and '-', up to 128");
        }
    }
}
