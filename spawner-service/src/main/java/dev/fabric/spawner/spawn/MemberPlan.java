package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.Resources;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.web.SpawnerException;
import org.springframework.http.HttpStatus;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a member is started with. It is kept in the member's registration (its metadata), so a
 * restart, even by a restarted spawner, starts the member the same way, on the same host.
 *
 * @param host the configured SSH host the member is placed on; null: this spawner's own launcher
 */
public record MemberPlan(String type, String name, Connectivity connectivity, Resources resources, Map<String, String> config,
                         String host) {

    /** Metadata key of the member's placement. */
    static final String HOST = "host";

    /** Metadata keys of the role's configuration: {@code config.<key>}. */
    static final String CONFIG_PREFIX = "config.";

    public MemberPlan {
        config = Map.copyOf(config);
    }

    /** A plan without a placement. */
    public MemberPlan(String type, String name, Connectivity connectivity, Resources resources, Map<String, String> config) {
        this(type, name, connectivity, resources, config, null);
    }

    /** The plan of a spawn request without a placement, for a spawner with no SSH hosts. */
    public static MemberPlan of(SpawnRequest request, List<String> roles) {
        return of(request, roles, java.util.Set.of());
    }

    /**
     * The plan of a spawn request, with the defaults filled in.
     *
     * @param hosts the hosts a request may name as its placement
     * @throws SpawnerException {@code 400} for a role this spawner does not run, settings the role does not take,
     *                          resources that are not quantities, or a host that is not configured
     */
    public static MemberPlan of(SpawnRequest request, List<String> roles, java.util.Set<String> hosts) {
        if (!roles.contains(request.type())) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "unknown-role", "this spawner runs no role '" + request.type()
                    + "'; its roles are " + roles);
        }
        Connectivity connectivity = request.connectivity() == null ? Connectivity.DIRECT : request.connectivity();
        Resources resources;
        try {
            resources = request.resources() == null ? Resources.DEFAULT : new Resources(
                    request.resources().cpu() == null ? Resources.DEFAULT.cpu() : request.resources().cpu(),
                    request.resources().memory() == null ? Resources.DEFAULT.memory() : request.resources().memory());
        } catch (IllegalArgumentException e) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-resources", e.getMessage());
        }
        if (request.host() != null && !hosts.contains(request.host())) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "unknown-host", "this spawner has no host '" + request.host() + "'"
                    + (hosts.isEmpty() ? ": it has no SSH hosts configured (fabric.spawner.ssh.hosts, docs/spawner.md)"
                    : "; its hosts are " + new java.util.TreeSet<>(hosts)));
        }
        Map<String, String> config = request.config() == null ? Map.of() : request.config();
        RoleConfigs.invalidity(request.type(), config).ifPresent(invalid -> {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-config", "config of a " + request.type() + ": " + invalid);
        });
        String via = config.get(MemberEnvironment.VIA_CONFIG);
        if (via != null && !isRelayUrl(via)) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-via", "via '" + via + "' is not a bridge's relay URL, "
                    + "http://host:port (fabric service BRIDGE-ID shows it as its relay endpoint; docs/connectivity.md)");
        }
        return new MemberPlan(request.type(), request.name(), connectivity, resources, config, request.host());
    }

    private static boolean isRelayUrl(String url) {
        try {
            java.net.URI uri = java.net.URI.create(url);
            // http://host:port and nothing more: a path, a query or a user would be dropped or sent on.
            return "http".equals(uri.getScheme()) && uri.getHost() != null && uri.getPort() > 0 && uri.getRawUserInfo() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))
                    && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The plan a registered member was started with, read back from its registration. */
    public static MemberPlan of(ServiceInstance instance) {
        Map<String, String> metadata = instance.metadata() == null ? Map.of() : instance.metadata();
        Map<String, String> config = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (k.startsWith(CONFIG_PREFIX)) {
                config.put(k.substring(CONFIG_PREFIX.length()), v);
            }
        });
        Resources resources = new Resources(metadata.getOrDefault("cpu", Resources.DEFAULT.cpu()),
                metadata.getOrDefault("memory", Resources.DEFAULT.memory()));
        Connectivity connectivity = instance.connectivity() == null ? Connectivity.DIRECT : instance.connectivity();
        return new MemberPlan(instance.type(), instance.name(), connectivity, resources, config, metadata.get(HOST));
    }

    /** The registration metadata that records this plan (and the launcher that carries it out). */
    public Map<String, String> metadata(String launcher) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("launcher", launcher);
        metadata.put("cpu", resources.cpu());
        metadata.put("memory", resources.memory());
        config.forEach((k, v) -> metadata.put(CONFIG_PREFIX + k, v));
        if (host != null) {
            metadata.put(HOST, host);
        }
        return metadata;
    }

    /** A spawn request for a fresh member under a new id, with this plan (a LOST member's replacement). */
    public SpawnRequest freshRequest() {
        return new SpawnRequest(type, name, connectivity, new SpawnRequest.ResourceRequest(resources.cpu(), resources.memory()), config,
                host);
    }
}
