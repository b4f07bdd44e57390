package dev.fabric.spawner.spawn;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The spawner's settings ({@code fabric.spawner.*}).
 *
 * @param id this spawner's id; empty: one generated on the first start and kept in the data directory
 * @param dataDir where the spawner keeps its id, the fabric keys (unless {@code fabric.security.keys-path}
 *                names another directory) and one directory per member (its log and data)
 * @param url the URL members and clients reach this spawner at; empty: {@code http://127.0.0.1:<port>}
 * @param registryUrl the registry; empty: in a Kubernetes cluster the registry Service found through
 *                    discovery, elsewhere {@code http://127.0.0.1:8470}
 * @param launcher {@code process} (local child processes) or {@code kubernetes} (pods)
 * @param roles the roles members of this spawner can run
 * @param otpTtl how long a one-time password may wait to be redeemed
 * @param bootstrapTimeout how long a member has from launch to RUNNING before it is killed and FAILED
 *                         (mode 3: how long the spawner keeps dialing it)
 * @param stopGrace how long a stopped member may take to exit before it is killed
 * @param maxRestarts how many restarts of one member within {@code restartWindow} before it is given up as FAILED
 * @param restartWindow see {@code maxRestarts}
 * @param superviseInterval how often the spawner compares its members with the registry
 * @param stopMembersOnShutdown whether a spawner that shuts down cleanly stops its members (laptop)
 *                              or leaves them running to re-adopt them when it comes back (default)
 * @param process settings of the {@code process} launcher
 */
@ConfigurationProperties("fabric.spawner")
@Validated
public record SpawnerProperties(
        @DefaultValue("") String id,
        @NotNull @DefaultValue("./spawner-data") Path dataDir,
        @DefaultValue("") String url,
        @DefaultValue("") String registryUrl,
        @NotNull @DefaultValue("process") String launcher,
        @NotEmpty @DefaultValue({"queue", "bridge", "pubsub", "agent", "pilot-manager"}) List<String> roles,
        @NotNull @DefaultValue("60s") Duration otpTtl,
        @NotNull @DefaultValue("60s") Duration bootstrapTimeout,
        @NotNull @DefaultValue("10s") Duration stopGrace,
        @Min(0) @Max(100) @DefaultValue("5") int maxRestarts,
        @NotNull @DefaultValue("5m") Duration restartWindow,
        @NotNull @DefaultValue("2s") Duration superviseInterval,
        @DefaultValue("false") boolean stopMembersOnShutdown,
        @NotNull @DefaultValue Process process) {

    /**
     * @param java the java executable members run with; empty: the spawner's own
     * @param jar the member jar; empty: the jar the spawner runs from
     * @param jvmOptions extra JVM options for members
     * @param maxStarting how many members this node starts at once; more wait (PENDING) for one of
     *                    them to be RUNNING or to fail, and their bootstrap timeout starts when their
     *                    JVM does; 0: one per CPU of this node (a JVM starting keeps a CPU busy)
     */
    public record Process(@DefaultValue("") String java, @DefaultValue("") String jar, @DefaultValue List<String> jvmOptions,
                          @Min(0) @DefaultValue("0") int maxStarting) {}
}
