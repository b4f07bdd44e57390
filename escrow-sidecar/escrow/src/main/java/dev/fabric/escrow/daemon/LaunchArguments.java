package dev.fabric.escrow.daemon;

import dev.fabric.escrow.wire.Limits;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link EscrowdLauncher} tells the daemon it starts, and the command line that carries it:
 * written by the launcher ({@link #toArgs}), read back by {@link EscrowdProcess#main} ({@link #parse}).
 * The launcher composes these arguments itself, so the daemon reads them without picocli, which a
 * library user of {@code CREAT} does not have (picocli is the CLI's, an optional dependency).
 * <p>
 * The form is escrowd's own ({@code [-v] [-f] -t N --max-slots=N ... PATH}), every option that takes
 * a value written as {@code --name=value}; anything else is refused, since nothing but the launcher
 * writes it.
 *
 * @param allowUids peer uids allowed; with {@code allowGids} also empty, the daemon's own uid
 * @param logFile the file the daemon makes its stdout and stderr (opened without following a
 *        link), or null to keep what the launcher gave it
 */
public record LaunchArguments(Path path, int nrTags, boolean verbose, boolean force, List<Integer> allowUids, List<Integer> allowGids,
                              Duration shutdownGrace, int maxSlots, long maxPayloadBytes, Duration idleTimeout, Path logFile) {

    static final String LOG_FILE = "--log-file=";
    private static final String ALLOW_UID = "--allow-uid=";
    private static final String ALLOW_GID = "--allow-gid=";
    private static final String SHUTDOWN_GRACE = "--shutdown-grace=";
    private static final String MAX_SLOTS = "--max-slots=";
    private static final String MAX_PAYLOAD_BYTES = "--max-payload-bytes=";
    private static final String IDLE_TIMEOUT = "--idle-timeout=";

    public LaunchArguments {
        Objects.requireNonNull(path, "path");
        allowUids = List.copyOf(allowUids);
        allowGids = List.copyOf(allowGids);
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    /** A client's {@code CREAT}: the path, the tags and its VERBOSE and FORCE; escrowd's defaults for the rest. */
    public static LaunchArguments of(Path path, int nrTags, boolean verbose, boolean force) {
        return new LaunchArguments(path, nrTags, verbose, force, List.of(), List.of(), EscrowdConfig.DEFAULT_SHUTDOWN_GRACE,
                EscrowdConfig.DEFAULT_MAX_SLOTS, EscrowdConfig.DEFAULT_MAX_PAYLOAD_BYTES, EscrowdConfig.DEFAULT_IDLE_TIMEOUT, null);
    }

    /** The same, with the daemon's output in {@code file} ({@code escrowd -d}: {@code PATH.log}). */
    public LaunchArguments withLogFile(Path file) {
        return new LaunchArguments(path, nrTags, verbose, force, allowUids, allowGids, shutdownGrace, maxSlots, maxPayloadBytes, idleTimeout,
                file);
    }

    /** How the engine runs. */
    public EscrowdConfig config() {
        PeerPolicy peers = allowUids.isEmpty() && allowGids.isEmpty() ? PeerPolicy.ownUid()
                : new PeerPolicy(Set.copyOf(allowUids), Set.copyOf(allowGids));
        return EscrowdConfig.of(path).withNrTags(nrTags).withForce(force).withPeers(peers).withTrace(verbose ? System.err : null)
                .withShutdownGrace(shutdownGrace).withMaxSlots(maxSlots).withMaxPayloadBytes(maxPayloadBytes).withIdleTimeout(idleTimeout);
    }

    /** The daemon's arguments, after its main class. */
    public List<String> toArgs() {
        List<String> args = new ArrayList<>();
        if (verbose) {
            args.add("-v");
        }
        if (force) {
            args.add("-f");
        }
        args.add("-t");
        args.add(Integer.toString(nrTags));
        allowUids.forEach(uid -> args.add(ALLOW_UID + uid));
        allowGids.forEach(gid -> args.add(ALLOW_GID + gid));
        args.add(SHUTDOWN_GRACE + shutdownGrace.toSeconds());
        args.add(MAX_SLOTS + maxSlots);
        args.add(MAX_PAYLOAD_BYTES + maxPayloadBytes);
        args.add(IDLE_TIMEOUT + idleTimeout.toSeconds());
        if (logFile != null) {
            args.add(LOG_FILE + logFile);
        }
        args.add(path.toString());
        return args;
    }

    /**
     * Reads what {@link #toArgs} wrote.
     *
     * @throws IllegalArgumentException for anything else, saying what
     */
    public static LaunchArguments parse(List<String> args) {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("no socket path");
        }
        boolean verbose = false;
        boolean force = false;
        int nrTags = Limits.DEFAULT_NR_TAGS;
        List<Integer> uids = new ArrayList<>();
        List<Integer> gids = new ArrayList<>();
        Duration grace = EscrowdConfig.DEFAULT_SHUTDOWN_GRACE;
        int maxSlots = EscrowdConfig.DEFAULT_MAX_SLOTS;
        long maxPayloadBytes = EscrowdConfig.DEFAULT_MAX_PAYLOAD_BYTES;
        Duration idle = EscrowdConfig.DEFAULT_IDLE_TIMEOUT;
        Path log = null;
        for (int i = 0; i < args.size() - 1; i++) {
            String arg = args.get(i);
            try {
                if (arg.equals("-v")) {
                    verbose = true;
                } else if (arg.equals("-f")) {
                    force = true;
                } else if (arg.equals("-t") && i + 1 < args.size() - 1) {
                    nrTags = Integer.parseInt(args.get(++i));
                } else if (arg.startsWith(ALLOW_UID)) {
                    uids.add(Integer.parseInt(arg.substring(ALLOW_UID.length())));
                } else if (arg.startsWith(ALLOW_GID)) {
                    gids.add(Integer.parseInt(arg.substring(ALLOW_GID.length())));
                } else if (arg.startsWith(SHUTDOWN_GRACE)) {
                    grace = Duration.ofSeconds(Long.parseLong(arg.substring(SHUTDOWN_GRACE.length())));
                } else if (arg.startsWith(MAX_SLOTS)) {
                    maxSlots = Integer.parseInt(arg.substring(MAX_SLOTS.length()));
                } else if (arg.startsWith(MAX_PAYLOAD_BYTES)) {
                    maxPayloadBytes = Long.parseLong(arg.substring(MAX_PAYLOAD_BYTES.length()));
                } else if (arg.startsWith(IDLE_TIMEOUT)) {
                    idle = Duration.ofSeconds(Long.parseLong(arg.substring(IDLE_TIMEOUT.length())));
                } else if (arg.startsWith(LOG_FILE)) {
                    log = Path.of(arg.substring(LOG_FILE.length()));
                } else {
                    throw new IllegalArgumentException("unknown argument " + arg + " (the launcher writes this command line)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number in " + arg, e);
            }
        }
        return new LaunchArguments(Path.of(args.getLast()), nrTags, verbose, force, uids, gids, grace, maxSlots, maxPayloadBytes, idle, log);
    }
}
