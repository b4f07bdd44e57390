package dev.fabric.spawner.spawn;

import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.spawner.web.SpawnerException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import java.util.Optional;

/**
 * Whether this node may spawn now. The root spawner always may. A member may once it is RUNNING:
 * before, it has no keys or registry to spawn with, and the spawner's machinery in it (built late,
 * see {@link MemberSpawningConfiguration}) must not be touched.
 */
@Component
public class SpawnGate {

    private final Optional<SpawningNode> member;

    public SpawnGate(ObjectProvider<SpawningNode> member) {
        this.member = Optional.ofNullable(member.getIfAvailable());
    }

    /** Whether this node is a member (spawned itself), not the root spawner. */
    public boolean isMember() {
        return member.isPresent();
    }

    /** Whether it may spawn and supervise now. */
    public boolean open() {
        return member.map(SpawningNode::running).orElse(true);
    }

    /** Before this node stops its members at shutdown: a member's role stops acting on their ends ({@link SpawningNode#membersStopping}). */
    public void membersStopping() {
        member.ifPresent(SpawningNode::membersStopping);
    }

    /**
     * @throws SpawnerException {@code 503 not-ready} while this node is a member that is not RUNNING yet
     */
    public void require() {
        if (!open()) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", "member " + member.orElseThrow().id()
                    + " spawns once it is RUNNING; retry then");
        }
    }
}
