package dev.fabric.cli.registry;

import java.time.Instant;

/** One entry of {@code GET /api/v1/instances/{id}/history}; {@code from} is null for a first registration. */
public record StateTransition(long seq, long incarnation, String from, String to, String reason, Instant at) {}
