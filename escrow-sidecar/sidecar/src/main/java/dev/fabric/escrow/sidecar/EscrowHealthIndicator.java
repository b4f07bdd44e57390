package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.Escrowd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import java.util.Optional;

/**
 * The {@code escrow} health component, part of the readiness group: UP only while a client
 * connecting now would be served (the engine serves, its acceptor runs, and the socket file is its
 * own listening socket). Not part of liveness: restarting the sidecar container would close every
 * descriptor it holds, so only a hung JVM should make the kubelet do that.
 */
@Component("escrow")
public class EscrowHealthIndicator implements HealthIndicator {

    private static final Logger LOG = LoggerFactory.getLogger(EscrowHealthIndicator.class);

    private final EscrowdLifecycle lifecycle;
    private volatile Boolean lastUp;

    public EscrowHealthIndicator(EscrowdLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public Health health() {
        Optional<Escrowd> escrowd = lifecycle.escrowd();
        String down = escrowd.isEmpty() ? "escrowd has not started"
                : escrowd.get().isAccepting() ? null
                : escrowd.get().isServing() ? "the socket " + escrowd.get().path() + " is gone or no longer accepts"
                : "escrowd is shutting down";
        report(down);
        if (down != null) {
            return Health.down().withDetail("reason", down).build();
        }
        return Health.up().withDetail("path", escrowd.get().path().toString()).build();
    }

    /** Logs changes only: probes ask every few seconds. */
    private void report(String down) {
        boolean up = down == null;
        if (lastUp == null || lastUp != up) {
            if (up) {
                LOG.info("escrow ready: accepting sessions on {}", lifecycle.escrowd().map(Escrowd::path).orElse(null));
            } else {
                LOG.warn("escrow not ready: {}", down);
            }
            lastUp = up;
        }
    }
}
