package dev.fabric.spawner.role.agent;

import dev.fabric.core.registry.Ids;
import dev.fabric.spawner.role.RoleSettings;
import org.springframework.util.unit.DataSize;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An agent's settings, from the configuration its spawner (usually the pilot manager) sends
 * ({@code fabric spawn agent --config queue=Q --config pubsub=P --config pilot=pilot-1 ...});
 * docs/roles.md, "agent".
 *
 * @param cores        how many tasks it runs at once (its slots)
 * @param queue        the member id of the queue it leases task descriptions from
 * @param pubsub       the member id of the pubsub it publishes task events on and takes cancels from
 * @param pilot        the pilot it serves
 * @param topic        the events topic ({@code tasks.<pilot>} by default); cancels come on {@code control.<pilot>}
 * @param outputLimit  the most bytes of standard output, and of standard error, an event carries
 * @param rerunPolicy  what a restarted agent does with the tasks it was running
 * @param sandbox      the directory under which each task gets its own; {@code null}: {@code <data directory>/tasks}
 * @param visibility   how long a lease lasts between the agent's extensions of it: a task held by an agent that died
 *                     without coming back goes to another agent after at most this long
 * @param sandboxRetention how long a finished task's sandbox is kept after its last change
 * @param prefetch     how many leased tasks it holds per core, running or waiting for a slot: more takes
 *                     short tasks in fewer lease requests, fewer spreads long tasks more evenly over agents
 * @param prefetchHorizon while its tasks are short, it holds as many per core as a core runs in this long
 *                     (up to 256 per core, never fewer than {@code prefetch}): a stream of quick tasks comes in
 *                     a few large lease requests; zero holds {@code prefetch} per core whatever the tasks take
 */
public record AgentSettings(int cores, String queue, String pubsub, String pilot, String topic, int outputLimit,
                            RerunPolicy rerunPolicy, Path sandbox, Duration visibility, Duration sandboxRetention, int prefetch,
                            Duration prefetchHorizon) {

    public static final String CORES = "cores";
    public static final String QUEUE = "queue";
    public static final String PUBSUB = "pubsub";
    public static final String PILOT = "pilot";
    public static final String TOPIC = "topic";
    public static final String OUTPUT_LIMIT = "output-limit";
    public static final String RERUN_POLICY = "rerun-policy";
    public static final String SANDBOX = "sandbox";
    public static final String VISIBILITY = "visibility";
    public static final String SANDBOX_RETENTION = "sandbox-retention";
    public static final String PREFETCH = "prefetch";
    public static final String PREFETCH_HORIZON = "prefetch-horizon";
    /** Every setting an agent takes. */
    public static final Set<String> KEYS = Set.of(CORES, QUEUE, PUBSUB, PILOT, TOPIC, OUTPUT_LIMIT, RERUN_POLICY, SANDBOX, VISIBILITY,
            SANDBOX_RETENTION, PREFETCH, PREFETCH_HORIZON);
    public static final int DEFAULT_PREFETCH = 2;
    public static final Duration DEFAULT_PREFETCH_HORIZON = Duration.ofMillis(250);
    public static final Duration MOST_PREFETCH_HORIZON = Duration.ofMinutes(10);

    static final int DEFAULT_OUTPUT_LIMIT = (int) DataSize.ofKilobytes(64).toBytes();
    static final Duration DEFAULT_VISIBILITY = Duration.ofSeconds(60);
    static final Duration DEFAULT_SANDBOX_RETENTION = Duration.ofHours(24);
    private static final String TOPIC_PATTERN = "[a-z0-9][a-z0-9._-]{0,127}";

    /** What a restarted agent does with the tasks its previous incarnation was running. */
    public enum RerunPolicy {
        /** Gives their leases back to the queue: each runs again, with its {@code attempt} one higher. */
        RERUN,
        /** Publishes each FAILED with reason {@code agent-lost} and acknowledges its lease: none runs again. */
        FAIL
    }

    /** The topic a pilot's agents publish task events on. */
    public static String eventsTopic(String pilot) {
        return "tasks." + pilot.toLowerCase(Locale.ROOT);
    }

    /** The topic a pilot's agents take cancels from. */
    public static String controlTopic(String pilot) {
        return "control." + pilot.toLowerCase(Locale.ROOT);
    }

    /** Where cancels for this agent's pilot come. */
    public String control() {
        return controlTopic(pilot);
    }

    /**
     * The settings in a role configuration, defaults for what it leaves out.
     *
     * @param dataDirectory the member's data directory, under which the default sandbox lies
     * @throws IllegalArgumentException naming the setting that is missing or not valid and what it must be
     */
    public static AgentSettings of(Map<String, String> config, Path dataDirectory) {
        int cores = RoleSettings.number(config, CORES, 1, 1, 1024);
        String queue = memberId(config, QUEUE);
        String pubsub = memberId(config, PUBSUB);
        String pilot = memberId(config, PILOT);
        String topic = config.getOrDefault(TOPIC, eventsTopic(pilot)).strip();
        if (!topic.matches(TOPIC_PATTERN) || !controlTopic(pilot).matches(TOPIC_PATTERN)) {
            throw new IllegalArgumentException(TOPIC + " must be 1 to 128 lower-case letters, digits, '.', '_' or '-' (and the pilot id "
                    + "short enough for control." + pilot + "), not '" + topic + "'");
        }
        int outputLimit = DEFAULT_OUTPUT_LIMIT;
        String rawLimit = config.get(OUTPUT_LIMIT);
        if (rawLimit != null) {
            long bytes;
            try {
                bytes = DataSize.parse(rawLimit.strip()).toBytes();
            } catch (IllegalArgumentException e) {
                bytes = -1;
            }
            if (bytes < 0 || bytes > DataSize.ofMegabytes(1).toBytes()) {
                throw new IllegalArgumentException(OUTPUT_LIMIT + " must be a size from 0B to 1MB (e.g. 64KB), not '" + rawLimit + "'");
            }
            outputLimit = (int) bytes;
        }
        RerunPolicy policy = RerunPolicy.RERUN;
        String rawPolicy = config.get(RERUN_POLICY);
        if (rawPolicy != null) {
            policy = switch (rawPolicy.strip().toLowerCase(Locale.ROOT)) {
                case "rerun" -> RerunPolicy.RERUN;
                case "fail" -> RerunPolicy.FAIL;
                default -> throw new IllegalArgumentException(RERUN_POLICY + " must be 'rerun' or 'fail', not '" + rawPolicy + "'");
            };
        }
        String rawSandbox = config.get(SANDBOX);
        Path sandbox = rawSandbox == null || rawSandbox.isBlank() ? dataDirectory.resolve("tasks") : Path.of(rawSandbox.strip());
        if (!sandbox.isAbsolute()) {
            sandbox = dataDirectory.resolve(sandbox);
        }
        Duration visibility = RoleSettings.duration(config, VISIBILITY, DEFAULT_VISIBILITY, Duration.ofSeconds(5), Duration.ofHours(12));
        Duration retention = RoleSettings.duration(config, SANDBOX_RETENTION, DEFAULT_SANDBOX_RETENTION, Duration.ZERO, Duration.ofDays(365));
        int prefetch = RoleSettings.number(config, PREFETCH, DEFAULT_PREFETCH, 1, Room.MOST_PREFETCH);
        Duration horizon = RoleSettings.duration(config, PREFETCH_HORIZON, DEFAULT_PREFETCH_HORIZON, Duration.ZERO, MOST_PREFETCH_HORIZON);
        return new AgentSettings(cores, queue, pubsub, pilot, topic, outputLimit, policy, sandbox, visibility, retention, prefetch, horizon);
    }

    private static String memberId(Map<String, String> config, String key) {
        String raw = config.get(key);
        if (raw == null || raw.isBlank()) {
            throw new IllegalArgumentException("an agent needs the setting " + key + " (" + switch (key) {
                case QUEUE -> "the member id of the queue it takes tasks from";
                case PUBSUB -> "the member id of the pubsub it publishes task events on";
                default -> "the id of the pilot it serves";
            } + "); spawn it with --config " + key + "=ID");
        }
        if (!raw.strip().matches(Ids.PATTERN)) {
            throw new IllegalArgumentException(key + " '" + raw + "' " + Ids.MESSAGE);
        }
        return raw.strip();
    }
}
