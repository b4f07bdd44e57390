package dev.fabric.spawner.role.pilot;

import dev.fabric.spawner.role.RoleSettings;
import dev.fabric.spawner.role.agent.AgentSettings;
import org.springframework.boot.convert.DurationStyle;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

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
 * @param agentPrefetchHorizon the {@code prefetch-horizon} of every agent it spawns: while tasks are short, an agent holds
 *                         as many per core as a core runs in this long ({@code agent-prefetch-horizon}, 250ms; 0 turns it off)
 */
record PilotSettings(Duration launchTimeout, Duration superviseInterval, int maxReplacements, long retentionCount,
                     Duration finishedPilotRetention, int agentPrefetch, Duration agentPrefetchHorizon) {

    static final String LAUNCH_TIMEOUT = "launch-timeout";
    static final String SUPERVISE_INTERVAL = "supervise-interval";
    static final String MAX_REPLACEMENTS = "max-replacements";
    static final String RETENTION_COUNT = "retention-count";
    static final String FINISHED_PILOT_RETENTION = "finished-pilot-retention";
    static final String AGENT_PREFETCH = "agent-prefetch";
    static final String AGENT_PREFETCH_HORIZON = "agent-prefetch-horizon";
    /** Every setting a pilot manager takes. */
    static final Set<String> KEYS = Set.of(LAUNCH_TIMEOUT, SUPERVISE_INTERVAL, MAX_REPLACEMENTS, RETENTION_COUNT, FINISHED_PILOT_RETENTION,
            AGENT_PREFETCH, AGENT_PREFETCH_HORIZON);

    static final PilotSettings DEFAULTS = new PilotSettings(Duration.ofMinutes(5), Duration.ofSeconds(1), 8, 1_000_000,
            Duration.ofDays(7), 2, AgentSettings.DEFAULT_PREFETCH_HORIZON);

    PilotSettings(Duration launchTimeout, Duration superviseInterval, int maxReplacements, long retentionCount) {
        this(launchTimeout, superviseInterval, maxReplacements, retentionCount, DEFAULTS.finishedPilotRetention);
    }

    PilotSettings(Duration launchTimeout, Duration superviseInterval, int maxReplacements, long retentionCount,
                  Duration finishedPilotRetention) {
        this(launchTimeout, superviseInterval, maxReplacements, retentionCount, finishedPilotRetention, DEFAULTS.agentPrefetch,
                DEFAULTS.agentPrefetchHorizon);
    }

    static PilotSettings of(Map<String, String> config) {
        if (number(config, AGENT_PREFETCH, DEFAULTS.agentPrefetch, 1) > 64) {
            throw new IllegalArgumentException("pilot-manager setting agent-prefetch must be from 1 to 64 (an agent's prefetch), not '"
                    + config.get(AGENT_PREFETCH) + "'");
        }
        return new PilotSettings(
                duration(config, LAUNCH_TIMEOUT, DEFAULTS.launchTimeout),
                duration(config, SUPERVISE_INTERVAL, DEFAULTS.superviseInterval),
                (int) number(config, MAX_REPLACEMENTS, DEFAULTS.maxReplacements, 0),
                number(config, RETENTION_COUNT, DEFAULTS.retentionCount, 1),
                duration(config, FINISHED_PILOT_RETENTION, DEFAULTS.finishedPilotRetention),
                (int) number(config, AGENT_PREFETCH, DEFAULTS.agentPrefetch, 1),
                agentPrefetchHorizon(config));
    }

    /** An agent's {@code prefetch-horizon}, checked here as the agent checks it, so a bad one fails the manager's spawn, not every pilot. */
    private static Duration agentPrefetchHorizon(Map<String, String> config) {
        String value = config.get(AGENT_PREFETCH_HORIZON);
        if (value == null) {
            return DEFAULTS.agentPrefetchHorizon;
        }
        try {
            return RoleSettings.duration(Map.of(AgentSettings.PREFETCH_HORIZON, value), AgentSettings.PREFETCH_HORIZON,
                    DEFAULTS.agentPrefetchHorizon, Duration.ZERO, AgentSettings.MOST_PREFETCH_HORIZON);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("pilot-manager setting " + AGENT_PREFETCH_HORIZON + " must be an agent's prefetch-horizon: "
                    + e.getMessage());
        }
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
