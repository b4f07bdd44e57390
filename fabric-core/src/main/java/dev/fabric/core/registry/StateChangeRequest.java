package dev.fabric.core.registry;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

import java.util.Map;

/** A state change reported for one incarnation; a member going RUNNING may publish its endpoints with it. */
public record StateChangeRequest(
        @NotNull InstanceState state,
        @NotNull @Positive Long incarnation,
        @Size(max = MAX_REASON) String reason,
        @Size(max = 32) Map<@Size(max = 64) String, @Size(max = 512) String> endpoints) {

    /** The longest reason the registry keeps (characters), for state changes and reports alike. */
    public static final int MAX_REASON = 1024;

    /**
     * The reason cut to {@link #MAX_REASON} characters, ending in {@code ...} when cut. A reason often
     * quotes what another server answered; a long answer must not turn the state change itself into
     * a refusal.
     */
    public static String fit(String reason) {
        if (reason == null || reason.length() <= MAX_REASON) {
            return reason;
        }
        int end = MAX_REASON - 3;
        if (Character.isHighSurrogate(reason.charAt(end - 1))) {
            end--;
        }
        return reason.substring(0, end) + "...";
    }
}
