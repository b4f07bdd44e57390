package dev.fabric.spawner.role;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a role is given: the member's id and incarnation, its data directory (kept across restarts
 * under the same id), the configuration its spawner sent, and whether this is a restart.
 */
public record RoleContext(String serviceId, long incarnation, Path dataDirectory, Map<String, String> config,
                          boolean restart) {

    public RoleContext {
        config = Map.copyOf(config);
    }
}
