package dev.fabric.cli.registry;

import java.time.Instant;
import java.util.Map;

/**
 * A fabric member as the registry's API shows it. States and connectivity modes stay strings: a
 * newer registry may add values, and the CLI only prints them.
 */
public record ServiceInstance(
        String id,
        String type,
        String name,
        String state,
        String stateReason,
        long incarnation,
        String parentId,
        String connectivity,
        Map<String, String> endpoints,
        Map<String, String> metadata,
        Instant registeredAt,
        Instant updatedAt,
        Instant lastHeartbeatAt) {

    public ServiceInstance {
        endpoints = endpoints == null ? Map.of() : endpoints;
        metadata = metadata == null ? Map.of() : metadata;
    }
}
