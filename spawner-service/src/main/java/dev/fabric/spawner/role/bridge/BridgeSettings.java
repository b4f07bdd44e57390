package dev.fabric.spawner.role.bridge;

import org.springframework.util.unit.DataSize;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static dev.fabric.spawner.role.RoleSettings.duration;
import static dev.fabric.spawner.role.RoleSettings.number;

/**
 * A bridge's settings, from the configuration its spawner sends ({@code fabric spawn bridge
 * --config port=8480 ...}); every one has a default (docs/connectivity.md, "The bridge").
 *
 * @param port the relay port (0: any free port, a new one on each restart; set it so that members
 *     find their bridge again after it restarted)
 * @param maxChannels how many members' reverse channels it holds at once
 * @param maxCircuits how many relayed exchanges may be in flight at once
 * @param maxCircuitBytes the most bytes one exchange may carry, request and answer bodies together
 * @param idleTimeout how long a relayed request waits for its answer, and a silent channel lives
 * @param address the address the relay port listens on ({@code null}: the member's own, loopback for
 *     a process member; {@code 0.0.0.0} for every address of its host)
 * @param maxCircuitDuration the longest a circuit (mode 4's fallback, {@link BridgeCircuits}) lives
 * @param host the host name or address in the relay URL the bridge publishes ({@code null}: the
 *     member's advertised host): what members and callers on other hosts dial
 */
public record BridgeSettings(int port, int maxChannels, int maxCircuits, long maxCircuitBytes, Duration idleTimeout, String address,
                             String host, Duration maxCircuitDuration) {

    public static final String PORT = "port";
    public static final String MAX_CHANNELS = "max-channels";
    public static final String MAX_CIRCUITS = "max-circuits";
    public static final String MAX_CIRCUIT_BYTES = "max-circuit-bytes";
    public static final String IDLE_TIMEOUT = "idle-timeout";
    public static final String ADDRESS = "address";
    public static final String HOST = "host";
    public static final String MAX_CIRCUIT_DURATION = "max-circuit-duration";
    /** Every setting a bridge takes. */
    public static final Set<String> KEYS = Set.of(PORT, MAX_CHANNELS, MAX_CIRCUITS, MAX_CIRCUIT_BYTES, IDLE_TIMEOUT, ADDRESS, HOST,
            MAX_CIRCUIT_DURATION);

    static final BridgeSettings DEFAULTS = new BridgeSettings(0, 64, 256, DataSize.ofMegabytes(8).toBytes(), Duration.ofSeconds(60),
            null, null, Duration.ofMinutes(10));

    /**
     * The settings in a role configuration, defaults for what it leaves out.
     *
     * @throws IllegalArgumentException naming the setting that is not valid and what it must be
     */
    public static BridgeSettings of(Map<String, String> config) {
        int port = number(config, PORT, DEFAULTS.port, 0, 65535);
        int channels = number(config, MAX_CHANNELS, DEFAULTS.maxChannels, 1, 100_000);
        int circuits = number(config, MAX_CIRCUITS, DEFAULTS.maxCircuits, 1, 100_000);
        long bytes = DEFAULTS.maxCircuitBytes;
        String rawBytes = config.get(MAX_CIRCUIT_BYTES);
        if (rawBytes != null) {
            try {
                bytes = DataSize.parse(rawBytes.strip()).toBytes();
            } catch (IllegalArgumentException e) {
                bytes = -1;
            }
            if (bytes < 1024 || bytes > DataSize.ofMegabytes(256).toBytes()) {
                throw new IllegalArgumentException(MAX_CIRCUIT_BYTES + " must be a size from 1KB to 256MB (e.g. 8MB), not '" + rawBytes + "'");
            }
        }
        Duration idle = duration(config, IDLE_TIMEOUT, DEFAULTS.idleTimeout, Duration.ofSeconds(1), Duration.ofHours(1));
        Duration longest = duration(config, MAX_CIRCUIT_DURATION, DEFAULTS.maxCircuitDuration, Duration.ofSeconds(1),
                Duration.ofHours(1));
        String address = config.get(ADDRESS);
        String host = config.get(HOST);
        for (String[] named : new String[][] {{ADDRESS, address}, {HOST, host}}) {
            if (named[1] != null && !named[1].matches("[A-Za-z0-9.:\\[\\]-]{1,253}")) {
                throw new IllegalArgumentException(named[0] + " must be a host name or an address, not '" + named[1] + "'");
            }
        }
        return new BridgeSettings(port, channels, circuits, bytes, idle, address, host, longest);
    }
}
