package dev.fabric.core.registry;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

import java.util.Map;

/**
 * A (re)start of an instance: the first registration of an id, or a restart of the same id with a
 * higher incarnation. {@code id} is generated when absent; {@code state} defaults to RUNNING and may
 * be PENDING or BOOTSTRAPPING when the spawner records an instance before it runs.
 */
public record RegistrationRequest(
        @Size(max = 128) @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String id,
        @NotBlank @Size(max = 64) @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String type,
        @Size(max = 128) String name,
        InstanceState state,
        @Positive Long incarnation,
        @Size(max = 128) @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String parentId,
        Connectivity connectivity,
        @Size(max = 32) Map<@Size(max = 64) String, @Size(max = 512) String> endpoints,
        @Size(max = 64) Map<@Size(max = 64) String, @Size(max = 1024) String> metadata) {}
