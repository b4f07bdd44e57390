package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.Ids;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import java.util.Map;

/**
 * {@code POST /api/v1/spawns}: a new member of a role.
 *
 * @param type the role (e.g. {@code queue})
 * @param name a human name, optional
 * @param connectivity who dials whom at bootstrap; default DIRECT
 * @param resources CPU and memory quantities, optional (default 500m, 256Mi)
 * @param config the role's configuration, optional
 * @param host where to start the member: the name of a host configured in {@code fabric.spawner.ssh.hosts},
 *             reached over SSH; absent: where this spawner's own launcher starts members
 */
public record SpawnRequest(
        @NotBlank @Size(max = 64) @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String type,
        @Size(max = 128) String name,
        Connectivity connectivity,
        ResourceRequest resources,
        @Size(max = 16) Map<@Pattern(regexp = "[a-z][a-z0-9.-]{0,47}", message = "config keys are lower-case letters, digits, '.' and '-'") String,
                @Size(max = 512) String> config,
        @Size(max = 63) @Pattern(regexp = "[a-z0-9][a-z0-9-]*", message = "a host is named by lower-case letters, digits and '-'") String host) {

    /** A request without a placement: the member starts where this spawner's own launcher starts members. */
    public SpawnRequest(String type, String name, Connectivity connectivity, ResourceRequest resources, Map<String, String> config) {
        this(type, name, connectivity, resources, config, null);
    }

    /** Quantities as Kubernetes writes them; checked by {@link dev.fabric.spawner.launch.Resources}. */
    public record ResourceRequest(String cpu, String memory) {}
}
