package dev.fabric.cli.context;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.http.Problem;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.Reach;
import dev.fabric.core.client.SplicedReach;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.keys.FabricKeysException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What every command works with, given to it by constructor: the JSON mapper, the clock, the fabric
 * keys, the servers it talks to (the registry, a spawner, a member's endpoint) and its output.
 * Settings come from the global options, the environment and {@code $FABRIC_HOME_DIR}
 * ({@link FabricHome}); keys are read when a command first needs them, so that a command line that
 * fails to parse, or {@code keys init}, never asks for them.
 */
public final class CommandContext implements AutoCloseable {

    /**
     * The longest a plain request waits for its answer. A request whose answer waits for a member to
     * be launched (a spawn, a restart) is given its own, longer bound ({@link FabricEndpoint#launch}).
     */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** SUSPECT: heartbeats are late, but the member may well still answer. */
    private static final Set<String> ANSWERING = Set.of("RUNNING", "SUSPECT");

    private final Map<String, String> env;
    private final FabricHome home;
    private final Clock clock;
    private final Supplier<String> registryOption;
    private final Supplier<Path> keysOption;
    private final Duration requestTimeout;
    private SplicedReach splices;
    /** The clients {@link #fabricClient()} made for the command under way; {@link #close()} closes them. */
    private final List<FabricClient> fabricClients = new ArrayList<>();
    /** Lenient: a newer server may add fields, and a field the CLI does not get prints as {@code -}. */
    private final JsonMapper json = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    /**
     * @param env the environment to read {@code FABRIC_*} from
     * @param registryOption {@code --registry} as parsed (null when not given)
     * @param keysOption {@code --keys} as parsed (null when not given)
     */
    public CommandContext(Map<String, String> env, FabricHome home, Clock clock, Supplier<String> registryOption,
                          Supplier<Path> keysOption) {
        this(env, home, clock, registryOption, keysOption, REQUEST_TIMEOUT);
    }

    /**
     * @param requestTimeout the longest a plain request waits for its answer ({@link #REQUEST_TIMEOUT};
     *                       tests give a shorter one, to show that a spawn is not held to it without waiting that long)
     */
    public CommandContext(Map<String, String> env, FabricHome home, Clock clock, Supplier<String> registryOption,
                          Supplier<Path> keysOption, Duration requestTimeout) {
        this.env = Map.copyOf(env);
        this.home = home;
        this.clock = clock;
        this.registryOption = registryOption;
        this.keysOption = keysOption;
        this.requestTimeout = requestTimeout;
    }

    public JsonMapper json() {
        return json;
    }

    public Clock clock() {
        return clock;
    }

    /** The output of a command that writes to these. */
    public Output output(PrintWriter out, PrintWriter err) {
        return new Output(out, err, json);
    }

    /** {@code --keys}, {@code $FABRIC_KEYS} or {@code $FABRIC_HOME_DIR/keys}, with where it came from. */
    public FabricHome.Setting<Path> keysDirectory() {
        return home.keys(keysOption.get(), env);
    }

    /** Loads the fabric keys of a directory; a missing or unsafe key is a {@link ExitCodes#KEYS} failure that says what to do. */
    public FabricKeys keys(FabricHome.Setting<Path> directory) {
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

    /** The registry, signing with the local keys; fails with a next step when there are none. */
    public Registry registry() {
        FabricHome.Setting<String> url = home.registry(registryOption.get(), env);
        return new Registry(endpoint(new FabricEndpoint.Target(url.value(), Registry.WHO, url.source(), Registry.UNREACHABLE_HINTS),
                Registry.ADVICE));
    }

    /** A spawner's or a member's API, signing with the local keys; fails with a next step when there are none. */
    public FabricEndpoint endpoint(FabricEndpoint.Target target, FabricEndpoint.Advice advice) {
        FabricHome.Setting<Path> keysDir = keysDirectory();
        return new FabricEndpoint(target, new FabricEndpoint.SigningKey(keys(keysDir), keysDir.value()), advice, json, requestTimeout);
    }

    /**
     * A {@link FabricClient} of the registry and keys this command uses (the client of the task
     * manager, {@code fabric pilot} and {@code fabric task}), named {@code fabric-cli-<pid>}. It is
     * the context's to close: {@link #close()}, when the command ends.
     */
    public synchronized FabricClient fabricClient() {
        FabricHome.Setting<String> url = home.registry(registryOption.get(), env);
        FabricClient client = FabricClient.builder(URI.create(url.value()), keys(keysDirectory()))
                .name("fabric-cli-" + ProcessHandle.current().pid()).build();
        fabricClients.add(client);
        return client;
    }

    /**
     * Closes the {@link FabricClient}s made for the command that ended (their connections and
     * threads; a subscription of theirs ends); a command after it makes new ones. Every command
     * ends with this ({@code FabricCommand}).
     */
    @Override
    public synchronized void close() {
        fabricClients.forEach(FabricClient::close);
        fabricClients.clear();
    }

    /** An environment variable of the command, or {@code fallback}. */
    public String env(String name, String fallback) {
        return env.getOrDefault(name, fallback);
    }

    /** {@code --spawner} (of the command at hand) or {@code $FABRIC_SPAWNER}; empty when neither says. */
    public Optional<FabricHome.Setting<String>> spawnerOverride(String option) {
        return home.spawner(option, env);
    }

    /**
     * One endpoint of a running (or suspect) member, found in the registry; every failure names the
     * member's state and where its URL came from.
     *
     * @param endpoint the endpoint's name in the registry: {@code management}, {@code queue}
     * @param purpose ends the message when the member is in another state: {@code only a running member takes session ids}
     * @param advice next steps for the problems of that endpoint's API, replacing the general ones when it has any
     */
    public FabricEndpoint member(String id, String endpoint, String purpose, Function<Problem, List<String>> advice) {
        Registry registry = registry();
        RegistryWire.Instance member = registry.member(id);
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
        String via = member.metadata().get(Reach.VIA);
        InetSocketAddress relay = via == null ? null : relayOf(registry, id, via);
        String how = via == null ? "" : ", reached through bridge " + via + " at " + relay;
        if (relay != null && "SPLICED".equals(member.connectivity()) && member.endpoints().get("management") != null) {
            // Mode 4: over a splice made on demand, through the bridge when it fails (docs/connectivity.md).
            relay = splices().gateway(id, member.incarnation(), URI.create(member.endpoints().get("management")), relay).proxy();
            how = ", reached over a splice made on demand, or through bridge " + via;
        }
        return endpoint(new FabricEndpoint.Target(url, "member " + id, "its " + endpoint + " endpoint in the registry at "
                + registry.baseUrl() + " (it is " + member.state() + " at incarnation " + member.incarnation() + ")"
                + how, whereItIs, relay),
                FabricEndpoint.Advice.orGeneral(advice));
    }

    /** This command's splice gateways to mode 4 members; they end with the process. */
    private SplicedReach splices() {
        if (splices == null) {
            FabricHome.Setting<String> url = home.registry(registryOption.get(), env);
            splices = new SplicedReach(new RegistryClient(URI.create(url.value()), keys(keysDirectory()), requestTimeout),
                    keys(keysDirectory()), Duration.ofSeconds(5));
        }
        return splices;
    }

    /** The relay port of the bridge a member is reached through (docs/connectivity.md). */
    private static InetSocketAddress relayOf(Registry registry, String id, String bridgeId) {
        RegistryWire.Instance bridge = registry.member(bridgeId);
        // A bridge chain: the outermost bridge, which passes the request on inward (docs/connectivity.md).
        Set<String> seen = new LinkedHashSet<>();
        for (String next; (next = bridge.metadata() == null ? null : bridge.metadata().get(Reach.VIA)) != null && !next.isBlank(); ) {
            if (!seen.add(bridge.id()) || seen.size() >= Reach.MAX_CHAIN) {
                throw new CliException(ExitCodes.CONFLICT, "member " + id + " is reached through bridges " + seen + " that are reached "
                        + "through one another in a loop, or in a chain longer than " + Reach.MAX_CHAIN, List.of());
            }
            bridge = registry.member(next);
        }
        String relay = bridge.endpoints().get(Reach.RELAY);
        URI uri = relay == null ? null : URI.create(relay);
        if (uri == null || uri.getHost() == null || uri.getPort() < 1) {
            throw new CliException(ExitCodes.CONFLICT, "member " + id + " is reached through bridge " + bridgeId + ", which is "
                    + bridge.state() + " and publishes no relay endpoint in the registry at " + registry.baseUrl(),
                    List.of("`fabric service " + bridgeId + "` shows the bridge's state; its spawner restarts it under its id"));
        }
        return InetSocketAddress.createUnresolved(uri.getHost(), uri.getPort());
    }
}
