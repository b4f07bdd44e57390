package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.posix.PosixException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * escrowd as this process: serve a path until stopped ({@link #serve}, what {@code escrow daemon}
 * runs in the foreground) and, as {@link #main}, the detached daemon {@link EscrowdLauncher} starts
 * for a client's {@code CREAT} and for {@code escrowd -d}.
 * <p>
 * Nothing here needs picocli: the launcher runs this class with its caller's class path, and a
 * library user's class path has no picocli (the CLI's, an optional dependency). {@link EscrowdMain}
 * is the command line a person types; {@link LaunchArguments} is the one the launcher writes.
 * <p>
 * Exit status: 1 when it cannot serve the path, 2 for arguments it cannot read, 3 when another
 * escrowd serves the path; stopped by a signal, the JVM's (143 for SIGTERM) after the graceful shutdown.
 */
public final class EscrowdProcess {

    static final int EXIT_CANNOT_SERVE = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_ALREADY_SERVING = 3;

    private EscrowdProcess() {
    }

    /** The detached daemon: its own session, its output where {@link LaunchArguments#logFile} says, then {@link #serve}. */
    public static void main(String[] args) throws InterruptedException {
        LaunchArguments launch;
        try {
            launch = LaunchArguments.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println("escrowd: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        try {
            Posix.setsid();
        } catch (PosixException e) {
            // Already a session leader: detached enough.
        }
        if (launch.logFile() != null) {
            try {
                logTo(launch.logFile());
            } catch (PosixException e) {
                // Nobody sees stderr now (the launcher discarded it); the caller reports our exit status.
                System.exit(EXIT_CANNOT_SERVE);
                return;
            }
        }
        EscrowdConfig config;
        try {
            config = launch.config();
        } catch (IllegalArgumentException e) {
            System.err.println("escrowd: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        System.exit(serve(config));
    }

    /**
     * Serves {@code config}'s path until the JVM is stopped (SIGTERM: refuse new sessions, give the
     * current one the grace, report what is held). Says on stderr why it cannot serve.
     *
     * @return the exit status: 0 once stopped, else 1 or 3
     */
    static int serve(EscrowdConfig config) throws InterruptedException {
        Path path = config.path();
        Escrowd escrowd;
        try {
            escrowd = Escrowd.start(config);
        } catch (AlreadyServingException e) {
            System.err.println("escrowd: " + e.getMessage());
            return EXIT_ALREADY_SERVING;
        } catch (StaleSocketException e) {
            System.err.println("escrowd: cannot serve " + path + ": " + e.getMessage() + ": start with -f (FORCE in a client's open) to replace it");
            return EXIT_CANNOT_SERVE;
        } catch (IOException e) {
            System.err.println("escrowd: cannot serve " + path + ": " + e.getMessage());
            return EXIT_CANNOT_SERVE;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("escrowd: shutting down; refusing new sessions on " + path);
            EscrowStats report = escrowd.shutdown();
            System.err.println("escrowd: still holding " + report.summary() + "; they close as escrowd exits");
            System.err.flush();
        }, "escrowd-shutdown"));
        System.out.println("Listening on \"" + path + "\"");
        System.out.flush();
        escrowd.awaitStopped();
        return 0;
    }

    /**
     * Makes {@code log} this process's stdout and stderr ({@code dup2} onto 1 and 2), so that
     * everything written there, the JVM's own messages included, lands in it. Opened for appending,
     * mode 0600, without following a symbolic link.
     */
    private static void logTo(Path log) {
        int fd = Posix.openPrivateNoFollow(log.toString(), true);
        try {
            Posix.dup2(fd, 1);
            Posix.dup2(fd, 2);
        } finally {
            Posix.close(fd);
        }
    }
}
