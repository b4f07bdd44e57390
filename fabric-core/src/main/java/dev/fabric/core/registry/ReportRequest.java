package dev.fabric.core.registry;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

/**
 * What a member says about an instance: {@code UNREACHABLE} when it failed to reach it (the target
 * becomes SUSPECT until heartbeats confirm it alive or dead), or {@code FAILED} when the instance
 * reports its own failure before dying (its incarnation is then required).
 */
public record ReportRequest(
        @NotNull Kind kind,
        @Size(max = 128) String reporter,
        @Positive Long incarnation,
        @Size(max = StateChangeRequest.MAX_REASON) String reason) {

    public enum Kind { UNREACHABLE, FAILED }
}
