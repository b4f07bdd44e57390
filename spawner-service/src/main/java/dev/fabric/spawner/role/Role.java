package dev.fabric.spawner.role;

import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Map;

/**
 * A service a fabric member runs: a queue today; bridge, agent, pilot manager and pub/sub later.
 * A role is a Spring bean of the member; its HTTP API, if any, is served on the member's port and
 * published in the registry as the endpoints {@link #endpoints} returns.
 *
 * <p>Lifecycle: on a restart under the old id, {@link #recover} runs first and may refuse
 * ({@link StateUnrecoverableException}: the member exits and is marked LOST); then {@link #start};
 * at shutdown {@link #membersStopping} when the member stops its own members, then {@link #stop}.
 */
public interface Role {

    /** The role's name, as given to {@code fabric spawn TYPE}. */
    String name();

    /** What the spawner does when a member of this role is lost. */
    RolePolicy policy();

    /**
     * Picks up the state a previous incarnation left in {@link RoleContext#dataDirectory()}.
     * Called only on a restart under the old id, before {@link #start}.
     *
     * @throws StateUnrecoverableException when the state is gone or unreadable
     */
    void recover(RoleContext context) throws StateUnrecoverableException;

    /** Starts serving. */
    void start(RoleContext context);

    /** Stops serving and makes its state durable. */
    void stop();

    /**
     * The member is shutting down and about to stop the members it spawned ({@code
     * stop-members-on-shutdown}): a role that manages such members stops acting on their ends now,
     * before they end (it goes on serving until {@link #stop}). Nothing by default.
     */
    default void membersStopping() {
    }

    /** A small status document for {@code GET /management/v1/status}. */
    Map<String, Object> status();

    /** The role's endpoints, relative to the member's base URL (e.g. {@code queue -> /queue/v1}). */
    Map<String, String> endpoints();

    /**
     * Where this role relays requests for other members, when it does (a bridge's relay port): a
     * bridge that is itself reached through a bridge hands such requests, arriving down its own
     * channel, to that port (a bridge chain, docs/connectivity.md).
     */
    default Optional<InetSocketAddress> relayPort() {
        return java.util.Optional.empty();
    }
}
