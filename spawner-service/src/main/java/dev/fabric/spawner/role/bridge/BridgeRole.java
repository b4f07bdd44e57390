package dev.fabric.spawner.role.bridge;

import dev.fabric.core.signature.ReceiverAuthorities;
import dev.fabric.spawner.role.Role;
import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.RolePolicy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.catalina.connector.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Profile;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.net.InetSocketAddress;
import java.util.concurrent.Semaphore;

/**
 * The {@code bridge} role, the seed's "communication bridge" (docs/connectivity.md): it runs where
 * both sides can reach it and relays the fabric's HTTP traffic for members that cannot reach the
 * registry or their parent, or be reached, directly. It listens on a relay port of its own; members
 * open their reverse channels there ({@link BridgeChannels}), and callers send requests there as
 * to an HTTP proxy ({@link BridgeRelay}). It adds no trust: what it relays stays signed for its
 * destination, which verifies it. It keeps no state, so a lost bridge is replaced by a fresh one.
 */
@Component
@Profile("member")
public class BridgeRole implements Role {

    public static final String NAME = "bridge";

    /** Metrics (Micrometer; {@code /actuator/prometheus}). */
    static final String CHANNELS_METRIC = "fabric.bridge.channels";
    static final String CIRCUITS_METRIC = "fabric.bridge.circuits";
    /** The relay connector's read and write buffers, per connection: the slice a circuit's bytes move in. */
    static final int RELAY_BUFFER = 64 * 1024;
    static final String BYTES_METRIC = "fabric.bridge.relayed.bytes";
    static final String EXCHANGES_METRIC = "fabric.bridge.exchanges";
    static final String REFUSALS_METRIC = "fabric.bridge.refusals";
    static final String CIRCUITS_OPENED_METRIC = "fabric.bridge.circuits.paired";

    private static final Logger log = LoggerFactory.getLogger(BridgeRole.class);

    private final ApplicationContext context;
    private final Environment environment;
    private final ReceiverAuthorities authorities;
    private final MeterRegistry meters;
    private volatile Running running;

    /** A started bridge: its settings, relay port, circuit permits and the id it welcomes members with. */
    record Running(String bridgeId, BridgeSettings settings, Connector connector, int port, String relayUrl, Semaphore circuits) {}

    private volatile InetSocketAddress relayLocal;

    public BridgeRole(ApplicationContext context, Environment environment, ReceiverAuthorities authorities, MeterRegistry meters) {
        this.context = context;
        this.environment = environment;
        this.authorities = authorities;
        this.meters = meters;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RolePolicy policy() {
        // Nothing is lost with a bridge: its members open their channels again to whichever bridge serves their relay URL.
        return new RolePolicy(true);
    }

    @Override
    public void recover(RoleContext context) {
        // A bridge keeps no state.
    }

    @Override
    public synchronized void start(RoleContext roleContext) {
        BridgeSettings settings = BridgeSettings.of(roleContext.config());
        if (!(context instanceof WebServerApplicationContext web) || !(web.getWebServer() instanceof TomcatWebServer tomcat)) {
            throw new IllegalStateException("a bridge needs the member's Tomcat web server to open its relay port");
        }
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(settings.port());
        // A circuit's bytes are read and written in slices of these buffers' size (BridgeCircuits): 64 KiB rather than
        // Tomcat's 8 KiB, an eighth of the system calls per relayed byte.
        connector.setProperty("socket.appReadBufSize", Integer.toString(RELAY_BUFFER));
        connector.setProperty("socket.appWriteBufSize", Integer.toString(RELAY_BUFFER));
        String address = settings.address() != null ? settings.address() : environment.getProperty("server.address");
        if (address != null) {
            connector.setProperty("address", address);
        }
        tomcat.getTomcat().getService().addConnector(connector);
        int port = connector.getLocalPort();
        if (port <= 0) {
            tomcat.getTomcat().getService().removeConnector(connector);
            throw new IllegalStateException("the relay port " + settings.port() + " could not be opened (in use?)");
        }
        authorities.addOwnPort(port);
        // This node's own way to its relay port: loopback, unless the port listens on one address only.
        relayLocal = new InetSocketAddress(address == null || "0.0.0.0".equals(address) || "::".equals(address) ? "127.0.0.1" : address, port);
        String host = settings.host() != null ? settings.host() : environment.getProperty("FABRIC_ADVERTISED_HOST", "127.0.0.1");
        Semaphore circuits = new Semaphore(settings.maxCircuits());
        running = new Running(roleContext.serviceId(), settings, connector, port, "http://" + host + ":" + port, circuits);
        Gauge.builder(CIRCUITS_METRIC, circuits, c -> settings.maxCircuits() - c.availablePermits())
                .description("relayed exchanges in flight").register(meters);
        log.info("bridge {} incarnation {}: relaying on port {} ({})", roleContext.serviceId(), roleContext.incarnation(), port, settings);
    }

    @Override
    public synchronized void stop() {
        Running current = running;
        running = null;
        if (current != null && context instanceof WebServerApplicationContext web && web.getWebServer() instanceof TomcatWebServer tomcat) {
            tomcat.getTomcat().getService().removeConnector(current.connector());
        }
    }

    @Override
    public Map<String, Object> status() {
        Running current = running;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("started", current != null);
        if (current != null) {
            status.put("relay", current.relayUrl());
            status.put("circuits", current.settings().maxCircuits() - current.circuits().availablePermits());
            status.put(BridgeSettings.MAX_CHANNELS, current.settings().maxChannels());
            status.put(BridgeSettings.MAX_CIRCUITS, current.settings().maxCircuits());
            status.put(BridgeSettings.MAX_CIRCUIT_BYTES, current.settings().maxCircuitBytes());
            status.put(BridgeSettings.IDLE_TIMEOUT, current.settings().idleTimeout().toString());
            status.put(BridgeSettings.MAX_CIRCUIT_DURATION, current.settings().maxCircuitDuration().toString());
        }
        return status;
    }

    @Override
    public Map<String, String> endpoints() {
        Running current = running;
        return current == null ? Map.of() : Map.of(dev.fabric.core.client.Reach.RELAY, current.relayUrl());
    }

    @Override
    public Optional<InetSocketAddress> relayPort() {
        Running current = running;
        return current == null ? Optional.empty() : Optional.of(relayLocal);
    }

    /** The running bridge, or null when this member is no bridge (or not yet). */
    Running running() {
        return running;
    }

    MeterRegistry meters() {
        return meters;
    }

    void refused(String reason) {
        meters.counter(REFUSALS_METRIC, "reason", reason).increment();
    }
}
