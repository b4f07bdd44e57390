package dev.fabric.spawner.spawn;

import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * This spawner's members, one {@link ManagedMember} per id. An owner stays once made, so its lock
 * and its crash-loop window outlive each incarnation; only ids this spawner spawned or adopted
 * get one (a stranger's redeem does not).
 */
@Component
public class Members {

    private final ConcurrentMap<String, ManagedMember> members = new ConcurrentHashMap<>();
    private final SpawnerProperties properties;

    public Members(SpawnerProperties properties) {
        this.properties = properties;
    }

    /** The owner of a member this spawner starts or adopts, made on first use. */
    public ManagedMember of(String id) {
        return members.computeIfAbsent(id, k -> new ManagedMember(k, new CrashLoopWindow(properties.maxRestarts(),
                properties.restartWindow())));
    }

    /** The owner of a member this spawner knows. */
    public Optional<ManagedMember> find(String id) {
        return id == null ? Optional.empty() : Optional.ofNullable(members.get(id));
    }

    List<ManagedMember> all() {
        return List.copyOf(members.values());
    }

    /** Whether this spawner has started, restarted, adopted or stopped no member since it started. */
    boolean isEmpty() {
        return members.isEmpty();
    }
}
