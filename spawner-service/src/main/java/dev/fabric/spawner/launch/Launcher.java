package dev.fabric.spawner.launch;

import dev.fabric.core.registry.ServiceInstance;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Starts fabric members somewhere: a local child process ({@code process}) or a Kubernetes pod
 * ({@code kubernetes}). A launcher only starts, observes and stops; the bootstrap handshake, the
 * registry and restarts belong to the spawner.
 */
public interface Launcher {

    /** The name used in {@code fabric.spawner.launcher}: {@code process} or {@code kubernetes}. */
    String name();

    /**
     * Starts one incarnation of a member. The one-time password reaches the member without
     * appearing as a literal where others can read it (process: the child's environment only;
     * Kubernetes: a Secret the pod references).
     *
     * @throws LaunchException when the member could not be started at all (the reason says why)
     */
    LaunchedMember launch(LaunchSpec spec);

    /**
     * Starts a later incarnation of a member, {@code previous} being what the registry recorded of
     * the one before (launched by this node, or by another before this one adopted the member), so
     * the member finds the data it kept. By default as {@link #launch}.
     *
     * @throws LaunchException when the member could not be started at all (the reason says why)
     */
    default LaunchedMember relaunch(LaunchSpec spec, ServiceInstance previous) {
        return launch(spec);
    }

    /**
     * Whether a launch on {@code host} (null: no host named) starts a JVM on this node, sharing its
     * CPUs with the other members starting here: the spawner then starts only so many at once
     * ({@code fabric.spawner.process.max-starting}). A pod or another host's process does not.
     */
    default boolean startsOnThisNode(String host) {
        return false;
    }

    /**
     * Finds a member this spawner launched before it restarted, from what the registry recorded
     * (its metadata), so the spawner re-adopts it instead of starting a duplicate. Empty when the
     * member no longer runs.
     */
    Optional<LaunchedMember> adopt(ServiceInstance instance);

    /**
     * Makes sure no process of the incarnation {@code instance} records runs any more, before another
     * is started under its id, so that two processes of one member never run at once: stops it where
     * it runs (asked first, up to {@code grace}, then forced) and confirms it gone. A check that cannot
     * be made (a host that does not answer) confirms nothing: the caller then starts no new incarnation,
     * and tries again later. By default the member is {@linkplain #adopt adopted}, if found, and
     * {@linkplain LaunchedMember#stop stopped}.
     *
     * @return empty when no process of it runs any more; otherwise why that cannot be confirmed now
     */
    default Optional<String> ensureGone(ServiceInstance instance, Duration grace) {
        adopt(instance).ifPresent(member -> member.stop(grace));
        return Optional.empty();
    }

    /**
     * Why the host {@code instance} runs on cannot be reached now, or empty when it can (or this
     * launcher starts members on no other host). A restart waits for the host instead of ending
     * FAILED on a launch that cannot work: a network cut heals, and the member is restarted then.
     */
    default Optional<String> unreachable(ServiceInstance instance) {
        return Optional.empty();
    }

    /**
     * The member is gone for good (stopped on request, or LOST): frees what the launcher keeps for
     * it across incarnations (Kubernetes: its data claim). Called after its last incarnation
     * stopped; never when an incarnation merely ends or is replaced. Best effort, never throws.
     * The process launcher keeps nothing of the kind (a member's directory stays with its log).
     */
    default void release(String serviceId) {}

    /**
     * The end of a member's log (every incarnation's output, as the launcher captured it): at most
     * {@code maxBytes}, read where this launcher keeps it. Empty when this launcher cannot read its
     * members' logs (Kubernetes: {@code kubectl logs} reads the pod's).
     *
     * @throws LaunchException when the log should be there and cannot be read (the reason says why)
     */
    default Optional<MemberLog> logTail(ServiceInstance instance, int maxBytes) {
        return Optional.empty();
    }

    /**
     * The configured hosts a spawn request may name as its placement ({@code "host"}), on which
     * this launcher starts members over SSH. Empty when there are none.
     */
    default Set<String> hosts() {
        return Set.of();
    }

    /**
     * What a member started by this node inherits of this launcher's settings, as environment
     * variables, so that it can place members of its own the same way (docs/spawner.md, "Every member
     * spawns"). Nothing secret: paths and names only.
     */
    default Map<String, String> inheritedEnvironment() {
        return Map.of();
    }
}
