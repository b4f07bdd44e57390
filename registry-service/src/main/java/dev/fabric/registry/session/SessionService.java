package dev.fabric.registry.session;

import dev.fabric.registry.instance.ChangeWriter;
import dev.fabric.registry.instance.InstanceFilter;
import dev.fabric.core.registry.InstanceList;
import dev.fabric.registry.instance.InstanceRepository;
import dev.fabric.registry.instance.InstanceService;
import dev.fabric.registry.instance.RegistryException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.registry.watch.ChangeEvent;
import dev.fabric.registry.watch.ChangeLog;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/**
 * Session ids registered on instances: what an application needs to find its members again after its
 * own fail-over ({@code FabricConnection#reconnect} in fabric-core).
 */
@Service
public class SessionService {

    private final JdbcClient jdbc;
    private final InstanceRepository instances;
    private final InstanceService instanceService;
    private final ChangeLog changes;
    private final Clock clock;
    private final ChangeWriter writer;

    public SessionService(JdbcClient jdbc, InstanceRepository instances, InstanceService instanceService, ChangeLog changes,
                          Clock clock, ChangeWriter writer) {
        this.writer = writer;
        this.jdbc = jdbc;
        this.instances = instances;
        this.instanceService = instanceService;
        this.changes = changes;
        this.clock = clock;
    }

    /** Registers the session on the instance; true when it was new. */
    public boolean add(String instanceId, String sessionId) {
        return writer.write(instanceId, () -> doAdd(instanceId, sessionId));
    }

    private boolean doAdd(String instanceId, String sessionId) {
        ServiceInstance instance = instances.lock(instanceId).orElseThrow(() -> RegistryException.unknown(instanceId));
        Instant now = clock.instant();
        boolean present = jdbc.sql("SELECT COUNT(*) FROM instance_session WHERE session_id = ? AND instance_id = ?")
                .params(sessionId, instanceId).query(Long.class).single() > 0;
        if (present) {
            return false;
        }
        jdbc.sql("INSERT INTO instance_session (session_id, instance_id, registered_at) VALUES (?, ?, ?)")
                .params(sessionId, instanceId, now.atOffset(ZoneOffset.UTC)).update();
        changes.append(instanceId, ChangeEvent.Kind.SESSION_ADDED, Map.of("instance", instance, "session", sessionId), now);
        return true;
    }

    public void remove(String instanceId, String sessionId) {
        writer.write(instanceId, () -> {
            doRemove(instanceId, sessionId);
            return null;
        });
    }

    private void doRemove(String instanceId, String sessionId) {
        ServiceInstance instance = instances.lock(instanceId).orElseThrow(() -> RegistryException.unknown(instanceId));
        int removed = jdbc.sql("DELETE FROM instance_session WHERE session_id = ? AND instance_id = ?")
                .params(sessionId, instanceId).update();
        if (removed == 0) {
            throw new RegistryException(org.springframework.http.HttpStatus.NOT_FOUND, "unknown-session",
                    "session '" + sessionId + "' is not registered on instance '" + instanceId + "'");
        }
        changes.append(instanceId, ChangeEvent.Kind.SESSION_REMOVED, Map.of("instance", instance, "session", sessionId), clock.instant());
    }

    @Transactional(readOnly = true)
    public List<String> sessionsOf(String instanceId) {
        instances.find(instanceId).orElseThrow(() -> RegistryException.unknown(instanceId));
        return jdbc.sql("SELECT session_id FROM instance_session WHERE instance_id = ? ORDER BY session_id")
                .param(instanceId).query(String.class).list();
    }

    /** Every instance serving the session, with the revision to watch from. */
    public InstanceList members(String sessionId) {
        return instanceService.list(new InstanceFilter(null, null, null, sessionId));
    }
}
