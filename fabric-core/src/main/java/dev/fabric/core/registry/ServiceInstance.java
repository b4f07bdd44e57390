package dev.fabric.core.registry;

import java.time.Instant;
import java.util.Map;

/**
 * A fabric member as the registry knows it. Its parent ({@code parentId}) is the node that spawned
 * it; its supervisor, the node that restarts it, is its parent until another node adopts it
 * ({@link #SUPERVISOR}, docs/spawner.md "Adoption").
 */
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
        Instant lastHeartbeatAt) {

    /** Metadata key naming the node that adopted the instance and supervises it instead of its parent. */
    public static final String SUPERVISOR = "supervisor";

    /** The node that supervises {@code instance}: the one that adopted it, else its parent (none for a root). */
    public static String supervisorOf(ServiceInstance instance) {
        String adopter = instance.metadata() == null ? null : instance.metadata().get(SUPERVISOR);
        return adopter != null && !adopter.isBlank() ? adopter : instance.parentId();
    }
}
