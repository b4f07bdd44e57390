package dev.fabric.cli.registry;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The registry's JSON as the CLI reads it. Deliberately tolerant, and apart from fabric-core's own
 * types of the same things ({@code dev.fabric.core.registry}): states and connectivity modes stay
 * strings, so a newer registry may add values and fields and the CLI still prints them (a field it
 * does not get prints as {@code -}).
 */
public final class RegistryWire {

    private RegistryWire() {}

    /** A fabric member as the registry's API shows it. */
    public record Instance(
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

        public Instance {
            endpoints = endpoints == null ? Map.of() : endpoints;
            metadata = metadata == null ? Map.of() : metadata;
        }
    }

    /** {@code GET /api/v1/instances} and {@code GET /api/v1/sessions/{session}}: the instances and the revision to watch from so that nothing is missed. */
    public record Instances(long revision, List<Instance> instances) {

        public Instances {
            instances = instances == null ? List.of() : instances;
        }
    }

    /** One entry of {@code GET /api/v1/instances/{id}/history}; {@code from} is null for a first registration. */
    public record Transition(long seq, long incarnation, String from, String to, String reason, Instant at) {}

    /** The query of {@code GET /api/v1/instances}; a null field means "any". */
    public record Filter(String type, String state, String parent, String session) {}
}
