package dev.fabric.escrow.sidecar;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.escrow.daemon.Escrowd;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The sidecar's HTTP port (8471 by default), on the JDK's own HTTP server (one thread), serving the
 * paths the Spring Boot sidecar served, so that probes and scrape configurations keep working, and
 * nothing else:
 * <ul>
 * <li>{@code /actuator/health/liveness}: 200 {@code {"status":"UP"}} while the JVM answers at all.
 *     Restarting the sidecar would close every descriptor it holds, so only a hung JVM should make
 *     the kubelet do that;</li>
 * <li>{@code /actuator/health/readiness} (and {@code /actuator/health}): 200 UP while a client
 *     connecting now would be served (the engine serves, its acceptor runs, and the socket file is its
 *     own listening socket), else 503 {@code {"status":"DOWN"}}; changes are logged;</li>
 * <li>{@code /actuator/prometheus}: the {@link EscrowMetrics}, Prometheus text format.</li>
 * </ul>
 */
public final class SidecarHttp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarHttp.class);
    static final String LIVENESS = "/actuator/health/liveness";
    static final String READINESS = "/actuator/health/readiness";
    static final String HEALTH = "/actuator/health";
    static final String PROMETHEUS = "/actuator/prometheus";
    private static final byte[] UP = "{\"status\":\"UP\"}".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DOWN = "{\"status\":\"DOWN\"}".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final Supplier<Escrowd> engine;
    private final PrometheusRegistry registry;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private Boolean lastReady;

    private SidecarHttp(HttpServer server, Supplier<Escrowd> engine, PrometheusRegistry registry) {
        this.server = server;
        this.engine = engine;
        this.registry = registry;
    }

    /** Listens on {@code port} (0: any free one) of every address and serves until {@link #close()}. */
    public static SidecarHttp start(int port, Supplier<Escrowd> engine, PrometheusRegistry registry) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
        SidecarHttp http = new SidecarHttp(server, engine, registry);
        server.createContext("/", http::handle);
        server.start();
        return http;
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Why a client connecting now would not be served, or null when it would. */
    String notReady() {
        Escrowd escrowd = engine.get();
        return escrowd == null ? "escrowd has not started"
                : escrowd.isAccepting() ? null
                : escrowd.isServing() ? "the socket " + escrowd.path() + " is gone or no longer accepts"
                : "escrowd is shutting down";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "text/plain", new byte[0]);
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case LIVENESS -> send(exchange, 200, "application/json", UP);
                case READINESS, HEALTH -> {
                    boolean ready = readiness();
                    send(exchange, ready ? 200 : 503, "application/json", ready ? UP : DOWN);
                }
                case PROMETHEUS -> {
                    ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
                    writer.write(body, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
                    send(exchange, 200, PrometheusTextFormatWriter.CONTENT_TYPE, body.toByteArray());
                }
                default -> send(exchange, 404, "text/plain", "Not found: the escrow sidecar serves /actuator/health/liveness, "
                        .concat("/actuator/health/readiness and /actuator/prometheus\n").getBytes(StandardCharsets.US_ASCII));
            }
        } catch (RuntimeException e) {
            LOG.warn("escrow sidecar: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
        }
    }

    /** Readiness, with its changes logged (probes ask every few seconds). */
    private synchronized boolean readiness() {
        String down = notReady();
        boolean ready = down == null;
        if (lastReady == null || lastReady != ready) {
            if (ready) {
                LOG.info("escrow ready: accepting sessions on {}", engine.get().path());
            } else {
                LOG.warn("escrow not ready: {}", down);
            }
            lastReady = ready;
        }
        return ready;
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Stops listening at once (the probes then fail, as the container is stopping). */
    @Override
    public void close() {
        server.stop(0);
    }
}
