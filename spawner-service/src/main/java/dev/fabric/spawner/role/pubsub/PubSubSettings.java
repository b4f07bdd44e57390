package dev.fabric.spawner.role.pubsub;

import org.springframework.util.unit.DataSize;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static dev.fabric.spawner.role.RoleSettings.duration;
import static dev.fabric.spawner.role.RoleSettings.number;

/**
 * A pubsub's settings, from the configuration its spawner sends ({@code fabric spawn pubsub --config
 * retention-count=1000 ...}); every one has a default (docs/roles.md, "pubsub").
 *
 * @param retentionCount the most messages a topic retains: publishing one more drops its oldest
 * @param retentionAge how long a topic retains a message
 * @param retentionBytes the most body bytes a topic retains: publishing beyond drops its oldest
 * @param maxSubscribers how many streams the member serves at once; one more is refused (503)
 * @param keepAlive how long a quiet stream waits before a keep-alive comment
 */
public record PubSubSettings(int retentionCount, Duration retentionAge, long retentionBytes, int maxSubscribers, Duration keepAlive) {

    public static final String RETENTION_COUNT = "retention-count";
    public static final String RETENTION_AGE = "retention-age";
    public static final String RETENTION_BYTES = "retention-bytes";
    public static final String MAX_SUBSCRIBERS = "max-subscribers";
    public static final String KEEP_ALIVE = "keep-alive";
    /** Every setting a pubsub takes. */
    public static final Set<String> KEYS = Set.of(RETENTION_COUNT, RETENTION_AGE, RETENTION_BYTES, MAX_SUBSCRIBERS, KEEP_ALIVE);

    static final PubSubSettings DEFAULTS = new PubSubSettings(10_000, Duration.ofHours(24), DataSize.ofMegabytes(64).toBytes(), 256,
            Duration.ofSeconds(15));

    /**
     * The settings in a role configuration, defaults for what it leaves out.
     *
     * @throws IllegalArgumentException naming the setting that is not valid and what it must be
     */
    public static PubSubSettings of(Map<String, String> config) {
        int count = number(config, RETENTION_COUNT, DEFAULTS.retentionCount, 1, 10_000_000);
        Duration age = duration(config, RETENTION_AGE, DEFAULTS.retentionAge, Duration.ofSeconds(1), Duration.ofDays(3650));
        long bytes = DEFAULTS.retentionBytes;
        String rawBytes = config.get(RETENTION_BYTES);
        if (rawBytes != null) {
            try {
                bytes = DataSize.parse(rawBytes.strip()).toBytes();
            } catch (IllegalArgumentException e) {
                bytes = -1;
            }
            if (bytes < DataSize.ofKilobytes(256).toBytes() || bytes > DataSize.ofGigabytes(16).toBytes()) {
                throw new IllegalArgumentException(RETENTION_BYTES + " must be a size from 256KB to 16GB (e.g. 64MB), not '" + rawBytes + "'");
            }
        }
        int subscribers = number(config, MAX_SUBSCRIBERS, DEFAULTS.maxSubscribers, 1, 100_000);
        Duration keepAlive = duration(config, KEEP_ALIVE, DEFAULTS.keepAlive, Duration.ofMillis(100), Duration.ofMinutes(10));
        return new PubSubSettings(count, age, bytes, subscribers, keepAlive);
    }
}
