package dev.fabric.registry.watch;

import java.time.Instant;

/**
 * One change of the registry, numbered by its revision. {@code payload} is the JSON of the change:
 * the instance as it is after the change, and for state changes the transition.
 */
public record ChangeEvent(long revision, String instanceId, Kind kind, String payload, Instant at) {

    /** What changed. */
    public enum Kind { REGISTERED, STATE, DEREGISTERED, SESSION_ADDED, SESSION_REMOVED }
}
