package dev.fabric.spawner.role;

import org.springframework.boot.convert.DurationStyle;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/** Reads a role's settings from the configuration its spawner sent (lower-case keys, string values). */
public final class RoleSettings {

    private RoleSettings() {
    }

    /**
     * The whole number under {@code key}, or {@code fallback} when there is none.
     *
     * @throws IllegalArgumentException naming the key when the value is not a number from min to max
     */
    public static int number(Map<String, String> config, String key, int fallback, int min, int max) {
        String raw = config.get(key);
        if (raw == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.strip());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new IllegalArgumentException(key + " must be a whole number from " + min + " to " + max + ", not '" + raw + "'");
    }

    /**
     * The duration under {@code key} (a bare number is seconds; {@code 30s}, {@code 5m}, {@code 2h},
     * ISO-8601), or {@code fallback} when there is none.
     *
     * @throws IllegalArgumentException naming the key when the value is not a duration from min to max
     */
    public static Duration duration(Map<String, String> config, String key, Duration fallback, Duration min, Duration max) {
        String raw = config.get(key);
        if (raw == null) {
            return fallback;
        }
        Duration value;
        try {
            value = DurationStyle.detectAndParse(raw.strip(), ChronoUnit.SECONDS);
        } catch (IllegalArgumentException e) {
            value = null;
        }
        if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(key + " must be a duration from " + print(min) + " to " + print(max) + " (e.g. "
                    + print(fallback) + "), not '" + raw + "'");
        }
        return value;
    }

    /** A duration as a person writes it: in the largest unit that divides it ({@code 24h}, {@code 90s}). */
    private static String print(Duration duration) {
        if (duration.isZero()) {
            return "0s";
        }
        for (ChronoUnit unit : new ChronoUnit[] {ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS}) {
            if (duration.toMillis() % unit.getDuration().toMillis() == 0) {
                return DurationStyle.SIMPLE.print(duration, unit);
            }
        }
        return DurationStyle.SIMPLE.print(duration, ChronoUnit.MILLIS);
    }
}
