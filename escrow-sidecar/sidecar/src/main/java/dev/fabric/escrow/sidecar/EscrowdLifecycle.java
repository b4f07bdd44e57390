package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.AlreadyServingException;
import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.daemon.EscrowdListener;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.stats.EscrowStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Runs the escrowd engine for the app's life. Started with the other lifecycle beans (after the
 * HTTP port, so probes answer while it binds; readiness is DOWN until the socket accepts). Stopped
 * first on shutdown: the socket file goes at once so no new session starts, the current session
 * gets {@code fabric.escrow.shutdown-grace}, then what is still held is reported and closed.
 * <p>
 * In a pod the kubelet stops the native sidecar after the app container has exited, so by then
 * the escrow's descriptors have no one left to hand them back to.
 */
@Component
public class EscrowdLifecycle implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(EscrowdLifecycle.class);

    private final EscrowProperties properties;
    private final ObjectProvider<EscrowdListener> listeners;
    private volatile Escrowd escrowd;
    private volatile boolean running;

    public EscrowdLifecycle(EscrowProperties properties, ObjectProvider<EscrowdListener> listeners) {
        this.properties = properties;
        this.listeners = listeners;
    }

    @Override
    public void start() {
        Path path = properties.socketPath().toAbsolutePath();
        List<EscrowdListener> all = listeners.orderedStream().toList();
        EscrowdListener fanOut = tag -> all.forEach(listener -> listener.tagChanged(tag));
        try {
            Files.createDirectories(path.getParent());
            escrowd = Escrowd.start(properties.toConfig(fanOut));
        } catch (AlreadyServingException e) {
            throw new IllegalStateException("the escrow sidecar cannot serve " + path + ": " + e.getMessage()
                    + ". Another escrowd owns it; stop that one or give this sidecar another fabric.escrow.socket-path", e);
        } catch (IOException e) {
            throw new IllegalStateException("the escrow sidecar cannot serve " + path + ": " + e.getMessage()
                    + ". Check that the directory exists and is writable by uid " + Posix.getuid()
                    + " (in a pod: the shared emptyDir mounted there)", e);
        }
        running = true;
        LOG.info("escrow sidecar serving {} ({} tags, peers: {})", path, properties.nrTags(), properties.peers());
    }

    @Override
    public void stop() {
        Escrowd current = escrowd;
        if (current == null || !running) {
            return;
        }
        LOG.info("escrow sidecar stopping: refusing new sessions on {}", current.path());
        EscrowStats report = current.shutdown();
        LOG.info("escrow sidecar stopped; closing what it still held: {}", report.summary());
        current.close();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** The engine, once started; it stays (empty, stopped) after {@link #stop()} so that metrics read zeros. */
    public Optional<Escrowd> escrowd() {
        return Optional.ofNullable(escrowd);
    }
}
