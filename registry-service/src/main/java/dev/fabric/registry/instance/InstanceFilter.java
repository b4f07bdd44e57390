package dev.fabric.registry.instance;

import dev.fabric.core.registry.InstanceState;

/** Filters of the instance list; {@code null} means "any". */
public record InstanceFilter(String type, InstanceState state, String parentId, String sessionId) {
    public static final InstanceFilter ALL = new InstanceFilter(null, null, null, null);
}
