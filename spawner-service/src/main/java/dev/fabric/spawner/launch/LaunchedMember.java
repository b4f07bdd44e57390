package dev.fabric.spawner.launch;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A started incarnation of a member, as its launcher sees it. */
public interface LaunchedMember {

    String serviceId();

    long incarnation();

    /**
     * Where the launcher put the member, recorded in the registry's metadata so a restarted
     * spawner can adopt it ({@code pid}; {@code pod}, {@code namespace}).
     */
    Map<String, String> metadata();

    /**
     * The member's management port as this spawner can dial it, once known (process: at once;
     * Kubernetes: once the pod has an IP). Connectivity mode 3 dials it.
     */
    Optional<URI> managementUrl();

    /** Completes once, when the incarnation has ended, with how it ended. */
    CompletableFuture<LaunchOutcome> outcome();

    /** Asks the member to stop, waits up to {@code grace}, then forces it; returns once it is gone. */
    void stop(Duration grace);
}
