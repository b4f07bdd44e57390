package dev.fabric.spawner.contract;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.RegistryClient;

import java.net.URI;
import java.util.Optional;

/**
 * A member that spawns members of its own (every member does, docs/spawner.md "Every member
 * spawns"): what the spawner's machinery, run inside the member, needs of it. The member's keys and
 * registry arrive sealed during its own bootstrap, so both are empty until then.
 */
public interface SpawningNode {

    /** The member's id: its children's parent in the registry. */
    String id();

    /** Its management URL: where its children redeem their one-time passwords and where clients spawn. */
    URI managementUrl();

    /** The fabric keys it was sealed at its bootstrap; empty before. */
    Optional<FabricKeys> keys();

    /** The registry it was given at its bootstrap; empty before. */
    Optional<URI> registryUrl();

    /**
     * Its own signed client of that registry, the one it registers and heartbeats with: through its
     * bridge when it is reached through one (docs/connectivity.md).
     *
     * @throws RuntimeException (503 {@code not-ready}) before its keys arrived
     */
    RegistryClient registry();

    /** Whether it is RUNNING (registered, its role started): it spawns and supervises only then. */
    boolean running();

    /**
     * Its spawner side is about to stop its members (a shutdown with {@code stop-members-on-shutdown}):
     * its role stops acting on its members' ends first ({@code Role.membersStopping}), so that, for
     * instance, a pilot manager neither replaces the agents this stop ends nor fails their pilots.
     */
    void membersStopping();
}
