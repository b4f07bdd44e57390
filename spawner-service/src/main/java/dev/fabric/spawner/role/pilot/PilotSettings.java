package dev.fabric.spawner.role.pilot;

import org.springframework.boot.convert.DurationStyle;

import java.time.Duration;
import java.util.Map;

/**
 * The pilot manager's settings, from its spawn {@code config} (docs/roles.md "pilot-manager"):
 *
 * @param launchTimeout    how long a pilot's members may take to be RUNNING before the pilot FAILED ({@code launch-timeout}, 5m)
 * @param superviseInterval how often pilots are checked: launch, lost agents, runtime limit ({@code supervise-interval}, 1s)
 * @param maxReplacements  how many LOST agents of one pilot are replaced before the pilot FAILED ({@code max-replacements}, 8)
 * @param retentionCount   messages a pilot's pubsub keeps per topic ({@code retention-count}, 1000000): the manager
 *                         reads every event, so it must not fall behind retention
 * @param finishedPilotRetention how long a pilot that ended (DONE, FAILED, CANCELED) is kept with its tasks
 *                         ({@code finished-pilot-retention}, 7d); after that the manager forgets it and
 *                         compacts its journal
 * @param agentPrefetch    the {@code prefetch} of every agent it spawns: leased tasks held per core ({@code agent-prefetch}, 2)
 */
record PilotSettings(Duration launchTimeout, Duration superviseInterval, int maxReplacements, long retentionCount,
                     Duration finishedPilotRetention, int agentPrefetch) {

    static final PilotSettings DEFAULTS = new PilotSettings(Duration.ofMinutes(5), Duration.ofSeconds(1), 8, 1_000_000,
            Duration.ofDays(7), 2);

    PilotSettings(Duration launchTimeout, Duration superviseInterval, int maxReplacements, long retentionCount) {
        this(launchTimeout, superviseInterval, maxReplacements, retentionCount, DEFAULTS.finishedPilotRetention);
    }

    PilotSettings(Duration launchTimeout, Duration superviseInterval, int maxReplacements, long retentionCount,
                  Duration finishedPilotRetention) {
        this(launchTimeout, superviseInterval, maxReplacements, retentionCount, finishedPilotRetention, DEFAULTS.agentPrefetch);
    }

    static PilotSettings of(Map<String, String> config) {
        if (number(config, "agent-prefetch", DEFAULTS.agentPrefetch, 1) > 64) {
            throw new IllegalArgumentException("pilot-manager setting agent-prefetch must be from 1 to 64 (an agent's prefetch), not '"
                    + config.get("agent-prefetch") + "'");
        }
        return new PilotSettings(
                duration(config, "launch-timeout", DEFAULTS.launchTimeout),
                duration(config, "supervise-interval", DEFAULTS.superviseInterval),
                (int) number(config, "max-replacements", DEFAULTS.maxReplacements, 0),
                number(config, "retention-count", DEFAULTS.retentionCount, 1),
                duration(config, "finished-pilot-retention", DEFAULTS.finishedPilotRetention),
                (int) number(config, "agent-prefetch", DEFAULTS.agentPrefetch, 1));
    }

    private static Duration duration(Map<String, String> config, String key, Duration fallback) {
        String value = config.get(key);
        if (value == null) {
            return fallback;
        }
        Duration parsed = durationOf(value).orElseThrow(() -> new IllegalArgumentException(
                "pilot-manager setting " + key + " is '" + value + "', not a duration such as 30s or 5m"));
        if (parsed.isNegative() || parsed.isZero()) {
            throw new IllegalArgumentException("pilot-manager setting " + key + " must be positive, not '" + value + "'");
        }
        return parsed;
    }

    /** Spring Boot's duration style, as the queue's visibility: {@code 30s}, {@code 5m}, a bare number of seconds, ISO-8601. */
    static java.util.Optional<Duration> durationOf(String value) {
        try {
            return java.util.Optional.of(DurationStyle.detectAndParse(value.strip(), java.time.temporal.ChronoUnit.SECONDS));
        } catch (IllegalArgumentException e) {
            return java.util.Optional.empty();
        }
    }

    private static long number(Map<String, String> config, String key, long fallback, long min) {
        String value = config.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value.strip());
            if (parsed >= min) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("pilot-manager setting " + key + " must be a whole number of at least " + min
                + ", not '" + value + "'");
    }
}
