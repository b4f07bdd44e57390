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
 */
public record SpawnRequest(
        @NotBlank @Size(max = 64) @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String type,
        @Size(max = 128) String name,
        Connectivity connectivity,
        ResourceRequest resources,
        @Size(max = 16) Map<@Pattern(regexp = "[a-z][a-z0-9.-]{0,47}", message = "config keys are lower-case letters, digits, '.' and '-'") String,
                @Size(max = 512) String> config) {

    /** Quantities as Kubernetes writes them; checked by {@link dev.fabric.spawner.launch.Resources}. */
    public record ResourceRequest(String cpu, String memory) {}
}
