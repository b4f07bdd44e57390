package dev.fabric.cli.registry;

import java.util.List;

/** {@code GET /api/v1/instances}: the instances and the revision to watch from so that nothing is missed. */
public record InstanceList(long revision, List<ServiceInstance> instances) {

    public InstanceList {
        instances = instances == null ? List.of() : instances;
    }
}
