package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.EscrowdConfig;
import dev.fabric.escrow.daemon.EscrowdListener;
import dev.fabric.escrow.daemon.PeerPolicy;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.wire.Limits;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sidecar's settings, read from its environment (in a pod, the container's {@code env}): the
 * {@code FABRIC_ESCROW_*} variables and {@code SERVER_PORT}, named and written as they were for the
 * Spring Boot sidecar this replaces, so pods and charts keep working. A value that cannot work, or a
 * {@code FABRIC_ESCROW_} variable that does not exist (a typo would otherwise be ignored), stops the
 * sidecar at start with an {@link IllegalArgumentException} that names the variable and says what is
 * allowed.
 *
 * @param socketPath the escrow socket, in the directory the app container shares ({@code FABRIC_ESCROW_SOCKETPATH},
 *        default {@code /run/escrow/escrow.sock}); {@code .stats} and {@code .lock} sit beside it; at most 107 bytes
 * @param nrTags tags, 1..32768, fixed for the daemon's life ({@code FABRIC_ESCROW_NRTAGS}, default 32)
 * @param allowedUids peer uids allowed to connect ({@code FABRIC_ESCROW_ALLOWEDUIDS=10001,10002}; empty, with no gids:
 *        the sidecar's own uid)
 * @param allowedGids peer gids allowed to connect ({@code FABRIC_ESCROW_ALLOWEDGIDS}, default none)
 * @param force replace a stale socket file ({@code FABRIC_ESCROW_FORCE}, default true: in a pod the socket directory
 *        outlives a crashed sidecar container; a live escrowd is never replaced)
 * @param verbose the C escrow's message trace on stderr ({@code FABRIC_ESCROW_VERBOSE}, default false)
 * @param shutdownGrace on stop, how long the current session may go on ({@code FABRIC_ESCROW_SHUTDOWNGRACE}, default 5s)
 * @param maxSlots slots held at most ({@code FABRIC_ESCROW_MAXSLOTS}, default 131072)
 * @param maxPayloadBytes payload bytes held at most ({@code FABRIC_ESCROW_MAXPAYLOADBYTES}, default 16 MiB)
 * @param idleTimeout a silent session is closed after this while another client waits ({@code FABRIC_ESCROW_IDLETIMEOUT},
 *        default 30s; 0 never)
 * @param httpPort probes and metrics ({@code SERVER_PORT}, default 8471; 0 picks a free port)
 */
public record SidecarSettings(Path socketPath, int nrTags, List<Integer> allowedUids, List<Integer> allowedGids, boolean force,
                              boolean verbose, Duration shutdownGrace, int maxSlots, long maxPayloadBytes, Duration idleTimeout,
                              int httpPort) {

    static final String PREFIX = "FABRIC_ESCROW_";
    static final String SOCKET_PATH = PREFIX + "SOCKETPATH";
    static final String NR_TAGS = PREFIX + "NRTAGS";
    static final String ALLOWED_UIDS = PREFIX + "ALLOWEDUIDS";
    static final String ALLOWED_GIDS = PREFIX + "ALLOWEDGIDS";
    static final String FORCE = PREFIX + "FORCE";
    static final String VERBOSE = PREFIX + "VERBOSE";
    static final String SHUTDOWN_GRACE = PREFIX + "SHUTDOWNGRACE";
    static final String MAX_SLOTS = PREFIX + "MAXSLOTS";
    static final String MAX_PAYLOAD_BYTES = PREFIX + "MAXPAYLOADBYTES";
    static final String IDLE_TIMEOUT = PREFIX + "IDLETIMEOUT";
    static final String SERVER_PORT = "SERVER_PORT";

    static final Set<String> KNOWN = Set.of(SOCKET_PATH, NR_TAGS, ALLOWED_UIDS, ALLOWED_GIDS, FORCE, VERBOSE, SHUTDOWN_GRACE, MAX_SLOTS,
            MAX_PAYLOAD_BYTES, IDLE_TIMEOUT);

    public static final Path DEFAULT_SOCKET_PATH = Path.of("/run/escrow/escrow.sock");
    public static final int DEFAULT_HTTP_PORT = 8471;
    /** The kernel's limit for a UNIX socket path (sun_path holds 108 bytes with the terminating NUL). */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    public SidecarSettings {
        allowedUids = List.copyOf(allowedUids);
        allowedGids = List.copyOf(allowedGids);
    }

    /** The defaults, as an empty environment gives them. */
    public static SidecarSettings defaults() {
        return fromEnvironment(Map.of());
    }

    /** The settings from {@code env} (the process's: {@code System.getenv()}); refuses what cannot work, saying why. */
    public static SidecarSettings fromEnvironment(Map<String, String> env) {
        Set<String> unknown = new TreeSet<>();
        for (String name : env.keySet()) {
            if (name.startsWith(PREFIX) && !KNOWN.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown escrow sidecar setting " + String.join(", ", unknown) + "; the settings are "
                    + String.join(", ", new TreeSet<>(KNOWN)) + " and " + SERVER_PORT + " (docs/escrow.md)");
        }
        Path socketPath = Path.of(value(env, SOCKET_PATH, DEFAULT_SOCKET_PATH.toString())).toAbsolutePath();
        int pathBytes = socketPath.toString().getBytes(StandardCharsets.UTF_8).length;
        if (pathBytes > MAX_SOCKET_PATH_BYTES) {
            throw invalid(SOCKET_PATH, socketPath.toString(), "is " + pathBytes + " bytes long; a UNIX socket path has at most "
                    + MAX_SOCKET_PATH_BYTES);
        }
        if (socketPath.getParent() == null || socketPath.getParent().getParent() == null) {
            throw invalid(SOCKET_PATH, socketPath.toString(), "must name a socket file in a directory of its own (the volume the app"
                    + " container shares is mounted there), such as " + DEFAULT_SOCKET_PATH);
        }
        int nrTags = integer(env, NR_TAGS, Limits.DEFAULT_NR_TAGS, 1, Limits.MAX_NR_TAGS,
                "must be between 1 and " + Limits.MAX_NR_TAGS + " (tags travel as int16); the default is " + Limits.DEFAULT_NR_TAGS);
        List<Integer> uids = ids(env, ALLOWED_UIDS);
        List<Integer> gids = ids(env, ALLOWED_GIDS);
        boolean force = bool(env, FORCE, true);
        boolean verbose = bool(env, VERBOSE, false);
        Duration shutdownGrace = duration(env, SHUTDOWN_GRACE, EscrowdConfig.DEFAULT_SHUTDOWN_GRACE);
        int maxSlots = integer(env, MAX_SLOTS, EscrowdConfig.DEFAULT_MAX_SLOTS, 1, Integer.MAX_VALUE,
                "must be at least 1; the default is " + EscrowdConfig.DEFAULT_MAX_SLOTS);
        long maxPayloadBytes = longValue(env, MAX_PAYLOAD_BYTES, EscrowdConfig.DEFAULT_MAX_PAYLOAD_BYTES);
        Duration idleTimeout = duration(env, IDLE_TIMEOUT, EscrowdConfig.DEFAULT_IDLE_TIMEOUT);
        int httpPort = integer(env, SERVER_PORT, DEFAULT_HTTP_PORT, 0, 65535, "must be a TCP port, 0 to 65535; the default is "
                + DEFAULT_HTTP_PORT);
        return new SidecarSettings(socketPath, nrTags, uids, gids, force, verbose, shutdownGrace, maxSlots, maxPayloadBytes, idleTimeout,
                httpPort);
    }

    /** Who may connect: the listed uids and gids, or the sidecar's own uid when both lists are empty. */
    public PeerPolicy peers() {
        Set<Integer> uids = new HashSet<>(allowedUids);
        if (uids.isEmpty() && allowedGids.isEmpty()) {
            uids.add(Posix.getuid());
        }
        return new PeerPolicy(uids, Set.copyOf(allowedGids));
    }

    /** The engine's configuration, with {@code listener} told of every tag that changes. */
    public EscrowdConfig toConfig(EscrowdListener listener) {
        return EscrowdConfig.of(socketPath).withNrTags(nrTags).withForce(force).withPeers(peers())
                .withTrace(verbose ? System.err : null).withShutdownGrace(shutdownGrace).withListener(listener)
                .withMaxSlots(maxSlots).withMaxPayloadBytes(maxPayloadBytes).withIdleTimeout(idleTimeout);
    }

    private static String value(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.strip();
    }

    private static int integer(Map<String, String> env, String name, int fallback, int min, int max, String rule) {
        String text = value(env, name, null);
        if (text == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(text);
            if (value < min || value > max) {
                throw invalid(name, text, rule);
            }
            return value;
        } catch (NumberFormatException e) {
            throw invalid(name, text, rule);
        }
    }

    private static long longValue(Map<String, String> env, String name, long fallback) {
        String text = value(env, name, null);
        if (text == null) {
            return fallback;
        }
        try {
            long value = Long.parseLong(text);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw invalid(name, text, "must be a number of bytes, 0 or more; the default is " + fallback);
    }

    private static boolean bool(Map<String, String> env, String name, boolean fallback) {
        String text = value(env, name, null);
        if (text == null) {
            return fallback;
        }
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(name, text, "must be true or false; the default is " + fallback);
        };
    }

    private static List<Integer> ids(Map<String, String> env, String name) {
        String text = value(env, name, null);
        List<Integer> ids = new ArrayList<>();
        if (text == null) {
            return ids;
        }
        for (String part : text.split(",")) {
            try {
                int id = Integer.parseInt(part.strip());
                if (id >= 0) {
                    ids.add(id);
                    continue;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw invalid(name, text, "must list numeric ids, 0 or more, separated by commas, such as 10001,10002");
        }
        return ids;
    }

    /** A plain number is milliseconds; a unit is one of ns, us, ms, s, m, h, d (5s, 2m); ISO-8601 (PT5S) works too. */
    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ns|us|ms|s|m|h|d)?");

    static Duration duration(Map<String, String> env, String name, Duration fallback) {
        String text = value(env, name, null);
        if (text == null) {
            return fallback;
        }
        String rule = "must be a duration 0 or more, such as 500ms, 5s, 2m or PT5S (a plain number is milliseconds); the default is "
                + fallback.toSeconds() + "s";
        Matcher m = SIMPLE_DURATION.matcher(text.toLowerCase(Locale.ROOT));
        try {
            if (m.matches()) {
                long amount = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "ms" : m.group(2);
                return switch (unit) {
                    case "ns" -> Duration.ofNanos(amount);
                    case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1_000L));
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
            }
            Duration parsed = Duration.parse(text);
            if (!parsed.isNegative()) {
                return parsed;
            }
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            // below
        }
        throw invalid(name, text, rule);
    }

    private static IllegalArgumentException invalid(String name, String value, String rule) {
        return new IllegalArgumentException(name + "=" + value + ": " + rule);
    }
}
