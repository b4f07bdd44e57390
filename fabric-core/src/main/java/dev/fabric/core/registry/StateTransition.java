package dev.fabric.core.registry;

import java.time.Instant;

/** One recorded state change: when, from what, to what, and why. */
public record StateTransition(long seq, long incarnation, InstanceState from, InstanceState to, String reason, Instant at) {}
