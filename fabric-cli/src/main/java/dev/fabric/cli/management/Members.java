package dev.fabric.cli.management;

import dev.fabric.cli.CliException;
import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.registry.Problem;
import dev.fabric.cli.registry.RegistryClient;
import dev.fabric.cli.registry.ServiceInstance;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The commands that talk to a member itself ({@code sessions add}, {@code queue put}...) find it
 * here: its endpoint as the registry lists it, only while it runs, and every failure names the
 * member's state and where its URL came from.
 */
public final class Members {

    public static final String MANAGEMENT = "management";

    /** SUSPECT: heartbeats are late, but the member may well still answer. */
    private static final Set<String> ANSWERING = Set.of("RUNNING", "SUSPECT");

    private Members() {}

    /**
     * A signed client of one endpoint of a running (or suspect) member.
     *
     * @param endpoint the endpoint's name in the registry: {@code management}, {@code queue}
     * @param purpose ends the message when the member is in another state: {@code only a running member takes session ids}
     * @param advice next steps for the problems of that endpoint's API, replacing the general ones when it has any
     */
    public static ManagementClient endpoint(FabricCli cli, String id, String endpoint, String purpose,
                                            Function<Problem, List<String>> advice) {
        RegistryClient registry = cli.registry();
        ServiceInstance member = registry.decode(registry.instance(id), ServiceInstance.class);
        List<String> whereItIs = List.of("`fabric service " + id + "` shows its state; a member that died comes back under its id"
                + " once its spawner restarts it");
        if (!ANSWERING.contains(member.state())) {
            throw new CliException(ExitCodes.CONFLICT, "member " + id + " is " + member.state()
                    + (member.stateReason() == null ? "" : " (" + member.stateReason() + ")") + ": " + purpose, whereItIs);
        }
        String url = member.endpoints().get(endpoint);
        if (url == null) {
            throw new CliException(ExitCodes.CONFLICT, "member " + id + " (type " + member.type() + ") is " + member.state()
                    + " and publishes no " + endpoint + " endpoint in the registry at " + registry.baseUrl(),
                    List.of("`fabric service " + id + "` shows the endpoints it publishes"));
        }
        return cli.management(url, "member " + id, "its " + endpoint + " endpoint in the registry at " + registry.baseUrl()
                + " (it is " + member.state() + " at incarnation " + member.incarnation() + ")", whereItIs, advice);
    }
}
