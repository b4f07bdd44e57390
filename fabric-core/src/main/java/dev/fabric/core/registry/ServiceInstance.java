package dev.fabric.core.registry;

import java.time.Instant;
import java.util.Map;

/** A fabric member as the registry knows it. */
public record ServiceInstance(
        String id,
        String type,
        String name,
        InstanceState state,
        String stateReason,
        long incarnation,
        String parentId,
        Connectivity connectivity,
        Map<String, String> endpoints,
        Map<String, String> metadata,
        Instant registeredAt,
        Instant updatedAt,
        Instant lastHeartbeatAt) {}
