package dev.fabric.core.registry;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

import java.util.Map;

/** A state change reported for one incarnation; a member going RUNNING may publish its endpoints with it. */
public record StateChangeRequest(
        @NotNull InstanceState state,
        @NotNull @Positive Long incarnation,
        @Size(max = 1024) String reason,
        @Size(max = 32) Map<@Size(max = 64) String, @Size(max = 512) String> endpoints) {}
