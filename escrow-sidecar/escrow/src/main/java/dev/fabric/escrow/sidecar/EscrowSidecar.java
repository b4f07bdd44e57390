package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.AlreadyServingException;
import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.daemon.StaleSocketException;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.stats.EscrowStats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The escrow sidecar of a pod ({@code bin/escrow sidecar}, the image {@code docker/escrow-sidecar.Dockerfile}):
 * escrowd serving the socket directory the app container shares, with Kubernetes probes and
 * Prometheus metrics on an HTTP port ({@link SidecarHttp}), configured from the environment
 * ({@link SidecarSettings}). Plain Java, in escrowd's own lean JVM ({@code conf/escrowd-jvm.options}):
 * the sidecar runs beside every app that uses it.
 * <p>
 * Start: the HTTP port first (probes answer while the engine binds; readiness is DOWN until the
 * socket accepts), then the engine. Stop (SIGTERM, the JVM's shutdown): the engine first, so the
 * socket file goes at once and no new session starts; the current session gets the shutdown grace;
 * what is still held is reported and closed; then the HTTP port. In a pod the kubelet stops a native
 * sidecar after the app containers, so by then nobody is left to hand the descriptors to.
 * <p>
 * Exit status: 1 when it cannot serve the socket path (a stale socket file there while
 * {@code FABRIC_ESCROW_FORCE} is false, a directory it cannot make or write), 2 for a setting that
 * cannot work, 3 when another escrowd serves the path.
 */
public final class EscrowSidecar implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EscrowSidecar.class);
    static final int EXIT_CANNOT_SERVE = 1;
    static final int EXIT_SETTINGS = 2;
    static final int EXIT_ALREADY_SERVING = 3;

    private final SidecarSettings settings;
    private final SidecarHttp http;
    private final Escrowd escrowd;
    private boolean stopped;

    private EscrowSidecar(SidecarSettings settings, SidecarHttp http, Escrowd escrowd) {
        this.settings = settings;
        this.http = http;
        this.escrowd = escrowd;
    }

    /**
     * Starts the HTTP port and the engine.
     *
     * @throws SidecarStartException when the engine cannot serve the socket path; the HTTP port is closed again
     */
    public static EscrowSidecar start(SidecarSettings settings) throws IOException {
        // The engine, once it serves: the probes and metrics answer (DOWN, zeros) while it binds.
        AtomicReference<Escrowd> engine = new AtomicReference<>();
        PrometheusRegistry registry = new PrometheusRegistry();
        EscrowMetrics metrics = new EscrowMetrics(engine::get).registerIn(registry);
        SidecarHttp http = SidecarHttp.start(settings.httpPort(), engine::get, registry);
        Path path = settings.socketPath();
        try {
            Files.createDirectories(path.getParent());
            engine.set(Escrowd.start(settings.toConfig(metrics)));
        } catch (AlreadyServingException e) {
            http.close();
            throw new SidecarStartException(EXIT_ALREADY_SERVING, "the escrow sidecar cannot serve " + path + ": " + e.getMessage()
                    + ". Another escrowd owns it; stop that one or give this sidecar another " + SidecarSettings.SOCKET_PATH, e);
        } catch (StaleSocketException e) {
            http.close();
            throw new SidecarStartException(EXIT_CANNOT_SERVE, "the escrow sidecar cannot serve " + path + ": " + e.getMessage()
                    + ". Set " + SidecarSettings.FORCE + "=true (the default) to replace it, or remove it", e);
        } catch (IOException e) {
            http.close();
            throw new SidecarStartException(EXIT_CANNOT_SERVE, "the escrow sidecar cannot serve " + path + ": " + describe(e)
                    + ". Check that the directory exists and is writable by uid " + Posix.getuid()
                    + " (in a pod: the shared emptyDir mounted there)", e);
        }
        LOG.info("escrow sidecar serving {} ({} tags, peers: {}); probes and metrics on port {}", path, settings.nrTags(),
                settings.peers(), http.port());
        return new EscrowSidecar(settings, http, engine.get());
    }

    /** The engine. */
    public Escrowd escrowd() {
        return escrowd;
    }

    /** A file system error says its file and what went wrong ("/run/escrow: not a directory"), not the file alone. */
    private static String describe(IOException e) {
        if (e instanceof FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
            return f.getFile() + ": " + reason;
        }
        return e.getMessage();
    }

    /** The HTTP port of the probes and metrics. */
    public int httpPort() {
        return http.port();
    }

    public SidecarSettings settings() {
        return settings;
    }

    /** Why the sidecar is not ready, or null when a client connecting now would be served. */
    public String notReady() {
        return http.notReady();
    }

    /**
     * Stops: the engine first (no new session; the current one gets the shutdown grace; what is still
     * held is reported and closed), then the HTTP port. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        LOG.info("escrow sidecar stopping: refusing new sessions on {}", escrowd.path());
        EscrowStats report = escrowd.shutdown();
        LOG.info("escrow sidecar stopped; closing what it still held: {}", report.summary());
        escrowd.close();
        http.close();
    }

    /** Thrown by {@link #start} when the engine cannot serve; {@link #exitStatus()} is the process's. */
    public static final class SidecarStartException extends IOException {
        private final int exitStatus;

        SidecarStartException(int exitStatus, String message, Throwable cause) {
            super(message, cause);
            this.exitStatus = exitStatus;
        }

        public int exitStatus() {
            return exitStatus;
        }
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0) {
            boolean help = args[0].equals("--help") || args[0].equals("-h");
            usage(help ? System.out : System.err);
            System.exit(help ? 0 : EXIT_SETTINGS);
        }
        SidecarSettings settings;
        try {
            settings = SidecarSettings.fromEnvironment(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("escrow sidecar: " + e.getMessage());
            System.exit(EXIT_SETTINGS);
            return;
        }
        EscrowSidecar sidecar;
        try {
            sidecar = start(settings);
        } catch (SidecarStartException e) {
            System.err.println("escrow sidecar: " + e.getMessage());
            System.exit(e.exitStatus());
            return;
        } catch (IOException e) {
            System.err.println("escrow sidecar: cannot listen on HTTP port " + settings.httpPort() + ": " + e.getMessage()
                    + ". Give it another with " + SidecarSettings.SERVER_PORT + " (the pod's containers share their ports)");
            System.exit(EXIT_CANNOT_SERVE);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(sidecar::close, "escrow-sidecar-shutdown"));
        sidecar.escrowd().awaitStopped();
    }

    static void usage(PrintStream out) {
        out.print("""
                Usage: escrow sidecar
                The escrow sidecar of a pod: escrowd on the shared socket directory, with probes and Prometheus
                metrics on an HTTP port (/actuator/health/liveness, /actuator/health/readiness, /actuator/prometheus).
                It takes no arguments; its settings come from the environment (docs/escrow.md):
                  FABRIC_ESCROW_SOCKETPATH      the escrow socket (default /run/escrow/escrow.sock)
                  FABRIC_ESCROW_NRTAGS          tags, 1..32768 (default 32)
                  FABRIC_ESCROW_ALLOWEDUIDS     peer uids allowed, e.g. 10001,10002 (default: its own uid)
                  FABRIC_ESCROW_ALLOWEDGIDS     peer gids allowed (default none)
                  FABRIC_ESCROW_FORCE           replace a stale socket file (default true)
                  FABRIC_ESCROW_VERBOSE         the message trace on stderr (default false)
                  FABRIC_ESCROW_SHUTDOWNGRACE   how long the current session may go on at stop (default 5s)
                  FABRIC_ESCROW_MAXSLOTS        slots held at most (default 131072)
                  FABRIC_ESCROW_MAXPAYLOADBYTES payload bytes held at most (default 16777216)
                  FABRIC_ESCROW_IDLETIMEOUT     close a silent session while another waits (default 30s; 0 never)
                  SERVER_PORT                   the HTTP port (default 8471)
                ESCROW_JAVA_OPTS adds JVM options.
                """);
    }
}
