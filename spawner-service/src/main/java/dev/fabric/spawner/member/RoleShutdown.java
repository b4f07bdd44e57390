package dev.fabric.spawner.member;

import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;

/**
 * Stops the member's role at shutdown before the web server's graceful shutdown waits for the
 * requests in progress: a pubsub's subscriber streams and a queue's long-polled leases end when the
 * role stops, and would otherwise hold the member until its spawner's stop grace killed it (a pilot
 * manager stopping its pubsub was killed itself first, and left the pubsub running). After the node's
 * own supervisor, which stops the member's members first ({@code stop-members-on-shutdown}), while the
 * role still serves them. A request that comes after the role stopped gets the role's own {@code 503}
 * ({@code queue-not-started}, {@code pubsub-not-started}: "... or is stopping").
 */
final class RoleShutdown implements SmartLifecycle {

    /** Stopped after the phases above it (the supervisor's, the default), before the graceful shutdown's. */
    static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE + 1;

    private final MemberNode node;
    private volatile boolean running;

    RoleShutdown(MemberNode node) {
        this.node = node;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        node.stopRole();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
