package dev.fabric.escrow.daemon;

import dev.fabric.escrow.wire.Limits;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code escrowd [-d] [-v] [-f] [-t nr_tags] path}: the command line of the C escrowd, plus
 * the allowed peers, the shutdown grace, the memory limits and the idle timeout; the {@code daemon}
 * subcommand of the escrow CLI (picocli). In the foreground it serves through {@link EscrowdProcess};
 * with {@code -d} it starts {@link EscrowdProcess} detached through {@link EscrowdLauncher}, as a
 * client's {@code CREAT} does, and returns once that daemon listens.
 * <p>
 * Exit status: 1 when it cannot serve the path, 2 for a usage error, 3 when another escrowd
 * already serves the path; stopped by a signal, the JVM's (143 for SIGTERM) after the graceful shutdown.
 */
@Command(name = "escrowd", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The descriptor escrow daemon (wire-compatible with the C escrowd).",
                "Holds descriptors and payloads for clients of the UNIX socket PATH (mode 0600), one session at a time.",
                "Read-only stats on PATH.stats. SIGTERM: refuse new sessions, report what is held, exit."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"1:cannot serve PATH", "2:usage error", "3:another escrowd serves PATH",
                "143:stopped by SIGTERM (after the graceful shutdown)"})
public final class EscrowdMain implements Callable<Integer> {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "-d", description = {"Daemonize: run in the background (new session, stdin from /dev/null, stdout and stderr",
            "appended to PATH.log) and return once it listens, printing the daemon's pid alone on stdout."})
    boolean daemonize;

    @Option(names = "-v", description = "Verbose: print the message trace (the C escrow's format) on stderr.")
    boolean verbose;

    @Option(names = "-f", description = "Force: replace a stale socket file at PATH.")
    boolean force;

    @Option(names = "-t", paramLabel = "nr_tags", description = "Number of tags, fixed for the daemon's life (default: ${DEFAULT-VALUE}).")
    int nrTags = Limits.DEFAULT_NR_TAGS;

    @Option(names = "--allow-uid", split = ",", paramLabel = "UID",
            description = "Peer uids allowed to connect (default: the daemon's own uid).")
    List<Integer> allowUids = new ArrayList<>();

    @Option(names = "--allow-gid", split = ",", paramLabel = "GID", description = "Peer gids allowed to connect (default: none).")
    List<Integer> allowGids = new ArrayList<>();

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS",
            description = "On SIGTERM, how long the current session may go on before it is cut (default: ${DEFAULT-VALUE}).")
    int shutdownGraceSeconds = (int) EscrowdConfig.DEFAULT_SHUTDOWN_GRACE.toSeconds();

    @Option(names = "--max-slots", paramLabel = "N",
            description = "Slots held at most, over all tags; an ADD past it answers -28 \"Escrow full: ...\" (default: ${DEFAULT-VALUE}).")
    int maxSlots = EscrowdConfig.DEFAULT_MAX_SLOTS;

    @Option(names = "--max-payload-bytes", paramLabel = "BYTES",
            description = "Payload bytes held at most, over all slots; an ADD past it answers -28 \"Escrow full: ...\" (default: ${DEFAULT-VALUE}, 16 MiB).")
    long maxPayloadBytes = EscrowdConfig.DEFAULT_MAX_PAYLOAD_BYTES;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS",
            description = {"Close a session whose client has been silent this long while another client waits for the session",
                    "(a stopped or hung client); 0: never (default: ${DEFAULT-VALUE})."})
    int idleTimeoutSeconds = (int) EscrowdConfig.DEFAULT_IDLE_TIMEOUT.toSeconds();

    @Parameters(index = "0", arity = "0..1", paramLabel = "PATH", description = "The socket path (default: $ESCROW_PATH).")
    Path path;

    public static void main(String[] args) {
        System.exit(new CommandLine(new EscrowdMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (path == null) {
            String fromEnv = System.getenv("ESCROW_PATH");
            if (fromEnv == null || fromEnv.isBlank()) {
                System.err.println("escrowd: no socket path: give PATH or set ESCROW_PATH");
                return EscrowdProcess.EXIT_USAGE;
            }
            path = Path.of(fromEnv);
        }
        path = path.toAbsolutePath();
        if (nrTags < 1 || nrTags > Limits.MAX_NR_TAGS) {
            System.err.println("escrowd: -t must be between 1 and " + Limits.MAX_NR_TAGS + ", not " + nrTags);
            return EscrowdProcess.EXIT_USAGE;
        }
        if (maxSlots < 1) {
            System.err.println("escrowd: --max-slots must be at least 1, not " + maxSlots);
            return EscrowdProcess.EXIT_USAGE;
        }
        if (maxPayloadBytes < 0) {
            System.err.println("escrowd: --max-payload-bytes must be 0 or more, not " + maxPayloadBytes);
            return EscrowdProcess.EXIT_USAGE;
        }
        if (idleTimeoutSeconds < 0) {
            System.err.println("escrowd: --idle-timeout must be 0 (never) or more seconds, not " + idleTimeoutSeconds);
            return EscrowdProcess.EXIT_USAGE;
        }
        LaunchArguments launch = new LaunchArguments(path, nrTags, verbose, force, allowUids, allowGids,
                Duration.ofSeconds(shutdownGraceSeconds), maxSlots, maxPayloadBytes, Duration.ofSeconds(idleTimeoutSeconds), null);
        return daemonize ? daemonize(launch) : EscrowdProcess.serve(launch.config());
    }

    /** Starts the daemon as a detached process and returns once it listens (like daemon(3) after fork). */
    private int daemonize(LaunchArguments launch) throws IOException, InterruptedException {
        Path log = EscrowdConfig.logPath(path);
        if (Files.isSymbolicLink(log)) {
            System.err.println("escrowd: " + log + " is a symbolic link; escrowd never writes through one there: remove it");
            return EscrowdProcess.EXIT_CANNOT_SERVE;
        }
        Process child = EscrowdLauncher.spawn(launch.withLogFile(log)).process();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                System.err.println("escrowd: the daemon exited with status " + child.exitValue() + "; its output is in " + log);
                return child.exitValue();
            }
            if (statsSocketAnswers()) {
                // The pid alone on stdout, for `pid=$(escrow daemon -d PATH)`; the rest on stderr.
                System.out.println(child.pid());
                System.out.flush();
                System.err.println("escrowd: serving " + path + " in the background (pid " + child.pid() + "), output in " + log);
                return 0;
            }
            Thread.sleep(50);
        }
        System.err.println("escrowd: the daemon (pid " + child.pid() + ") did not listen on " + path + " within " + START_TIMEOUT);
        return EscrowdProcess.EXIT_CANNOT_SERVE;
    }

    private boolean statsSocketAnswers() {
        try (AFUNIXSocket probe = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(EscrowdConfig.statsPath(path)))) {
            return probe.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
