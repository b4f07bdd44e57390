package dev.fabric.core.registry;

import java.util.List;

/**
 * A list of instances and the registry revision it is at least as new as: watching from that
 * revision replays every change the list may not show, so nothing falls between list and watch.
 */
public record InstanceList(long revision, List<ServiceInstance> instances) {}
