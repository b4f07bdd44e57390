package dev.fabric.registry.instance;

import dev.fabric.core.registry.StateTransition;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The instance and transition tables. Plain SQL that runs unchanged on H2 and PostgreSQL. */
@Repository
public class InstanceRepository {

    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};
    private static final String COLUMNS = "id, type, name, state, state_reason, incarnation, parent_id, connectivity, endpoints, "
            + "metadata, registered_at, updated_at, last_heartbeat_at";

    private final JdbcClient jdbc;
    /** For statement batches, which {@link JdbcClient} does not do. */
    private final JdbcTemplate jdbcTemplate;
    /** As many entries as one request may carry ({@code RegistrationRequest}), and the columns' sizes (V1__registry.sql). */
    static final int MAX_ENDPOINTS = 32;
    static final int MAX_METADATA = 64;
    static final int ENDPOINTS_COLUMN = 8192;
    static final int METADATA_COLUMN = 16384;

    private final JsonMapper json;
    private final RowMapper<ServiceInstance> rows;

    public InstanceRepository(JdbcClient jdbc, JdbcTemplate jdbcTemplate, JsonMapper json) {
        this.jdbc = jdbc;
        this.jdbcTemplate = jdbcTemplate;
        this.json = json;
        this.rows = (rs, n) -> new ServiceInstance(
                rs.getString("id"), rs.getString("type"), rs.getString("name"),
                InstanceState.valueOf(rs.getString("state")), rs.getString("state_reason"), rs.getLong("incarnation"),
                rs.getString("parent_id"), Connectivity.valueOf(rs.getString("connectivity")),
                json.readValue(rs.getString("endpoints"), STRING_MAP), json.readValue(rs.getString("metadata"), STRING_MAP),
                instant(rs.getObject("registered_at", OffsetDateTime.class)), instant(rs.getObject("updated_at", OffsetDateTime.class)),
                instant(rs.getObject("last_heartbeat_at", OffsetDateTime.class)));
    }

    static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }

    public Optional<ServiceInstance> find(String id) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM service_instance WHERE id = ?").param(id).query(rows).optional();
    }

    /** Reads and row-locks the instance for the rest of the transaction (in a {@link Deferred} batch: as the batch has it). */
    public Optional<ServiceInstance> lock(String id) {
        Deferred deferred = deferred();
        if (deferred != null && deferred.rows.containsKey(id)) {
            return deferred.rows.get(id);
        }
        Optional<ServiceInstance> locked = jdbc.sql("SELECT " + COLUMNS + " FROM service_instance WHERE id = ? FOR UPDATE").param(id)
                .query(rows).optional();
        if (deferred != null) {
            deferred.rows.put(id, locked);
        }
        return locked;
    }

    private static final String INSERT = "INSERT INTO service_instance (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String UPDATE = "UPDATE service_instance SET type = ?, name = ?, state = ?, state_reason = ?, incarnation = ?, "
            + "parent_id = ?, connectivity = ?, endpoints = ?, metadata = ?, registered_at = ?, updated_at = ?, last_heartbeat_at = ? "
            + "WHERE id = ?";
    private static final String DELETE = "DELETE FROM service_instance WHERE id = ?";
    private static final String DELETE_SESSIONS = "DELETE FROM instance_session WHERE instance_id = ?";
    private static final String APPEND_TRANSITION = "INSERT INTO state_transition (instance_id, seq, incarnation, from_state, to_state, "
            + "reason, at) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM state_transition WHERE instance_id = ?";

    /**
     * The change writer's batch seen from the instance tables: the rows of the batch's instances read
     * and locked with one query, and the batch's writes held and sent at its end, one statement batch
     * for each statement, instead of a database round trip each. Under load a round trip waits for
     * the database's process to be scheduled (some 17 ms each at a load average of 40 on 2 cores,
     * docs/benchmarks.md), so round trips per change, not work, set how many changes a second the
     * registry can record. Writes to one table keep their order; tables are independent (no foreign
     * keys, and a transition numbers itself from its own table). A statement that fails does so at
     * {@link #flush}: the change writer then rolls the batch back and makes its changes again one by
     * one, each with a savepoint.
     */
    public final class Deferred implements AutoCloseable {
        private final Map<String, Optional<ServiceInstance>> rows = new HashMap<>();
        private final List<Map.Entry<String, Object[]>> instanceWrites = new ArrayList<>();
        private final List<Object[]> transitions = new ArrayList<>();
        private final List<Object[]> sessionDeletes = new ArrayList<>();

        private Deferred() {}

        /** Sends the held writes; call before the commit. */
        public void flush() {
            int from = 0;
            while (from < instanceWrites.size()) {
                String sql = instanceWrites.get(from).getKey();
                int to = from;
                List<Object[]> run = new ArrayList<>();
                while (to < instanceWrites.size() && instanceWrites.get(to).getKey().equals(sql)) {
                    run.add(instanceWrites.get(to++).getValue());
                }
                jdbcTemplate.batchUpdate(sql, run);
                from = to;
            }
            if (!sessionDeletes.isEmpty()) {
                jdbcTemplate.batchUpdate(DELETE_SESSIONS, sessionDeletes);
            }
            if (!transitions.isEmpty()) {
                jdbcTemplate.batchUpdate(APPEND_TRANSITION, transitions);
            }
            instanceWrites.clear();
            sessionDeletes.clear();
            transitions.clear();
        }

        @Override
        public void close() {
            TransactionSynchronizationManager.unbindResourceIfPossible(InstanceRepository.this);
        }
    }

    /**
     * Opens a {@link Deferred} batch in the current transaction: reads and row-locks the given instances
     * (in id order, as every batch locks rows) with as few queries as possible.
     */
    public Deferred defer(Collection<String> ids) {
        Deferred deferred = new Deferred();
        List<String> sorted = ids.stream().distinct().sorted().toList();
        for (int from = 0; from < sorted.size(); from += 500) {
            List<String> chunk = sorted.subList(from, Math.min(sorted.size(), from + 500));
            chunk.forEach(id -> deferred.rows.put(id, Optional.empty()));
            jdbc.sql("SELECT " + COLUMNS + " FROM service_instance WHERE id IN (" + String.join(", ", Collections.nCopies(chunk.size(), "?"))
                            + ") ORDER BY id FOR UPDATE")
                    .params(chunk.stream().map(Object.class::cast).toList()).query(rows).list()
                    .forEach(instance -> deferred.rows.put(instance.id(), Optional.of(instance)));
        }
        TransactionSynchronizationManager.bindResource(this, deferred);
        return deferred;
    }

    private Deferred deferred() {
        return (Deferred) TransactionSynchronizationManager.getResource(this);
    }

    /** A list limit that means "every match". */
    public static final int ALL = Integer.MAX_VALUE;

    /**
     * Instances the filter matches, in id order: at most {@code limit} ({@link #ALL}: no limit) after
     * the id {@code after} (null: from the first).
     */
    public List<ServiceInstance> list(InstanceFilter filter, String after, int limit) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM service_instance i WHERE 1 = 1");
        List<Object> params = new ArrayList<>();
        if (after != null) {
            sql.append(" AND id > ?");
            params.add(after);
        }
        if (filter.type() != null) {
            sql.append(" AND type = ?");
            params.add(filter.type());
        }
        if (filter.state() != null) {
            sql.append(" AND state = ?");
            params.add(filter.state().name());
        }
        if (filter.parentId() != null) {
            sql.append(" AND parent_id = ?");
            params.add(filter.parentId());
        }
        if (filter.sessionId() != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM instance_session s WHERE s.instance_id = i.id AND s.session_id = ?)");
            params.add(filter.sessionId());
        }
        sql.append(" ORDER BY id");
        if (limit != ALL) {
            sql.append(" FETCH FIRST ").append(limit).append(" ROWS ONLY");
        }
        return jdbc.sql(sql.toString()).params(params).query(rows).list();
    }

    public void insert(ServiceInstance instance) {
        write(INSERT, values(instance), instance.id(), Optional.of(instance));
    }

    public void update(ServiceInstance instance) {
        List<Object> params = new ArrayList<>(values(instance).subList(1, 13));
        params.add(instance.id());
        write(UPDATE, params, instance.id(), Optional.of(instance));
    }

    /** A write to the instance table: now, or held by the {@link Deferred} batch, which then sees the row as it will be. */
    private void write(String sql, List<Object> params, String id, Optional<ServiceInstance> after) {
        Deferred deferred = deferred();
        if (deferred == null) {
            jdbc.sql(sql).params(params).update();
            return;
        }
        deferred.instanceWrites.add(Map.entry(sql, params.toArray()));
        deferred.rows.put(id, after);
    }

    private List<Object> values(ServiceInstance i) {
        return List.of(i.id(), i.type(), i.name(), i.state().name(), nullable(i.stateReason()), i.incarnation(), nullable(i.parentId()),
                i.connectivity().name(), fitting("endpoints", i, i.endpoints(), MAX_ENDPOINTS, ENDPOINTS_COLUMN),
                fitting("metadata", i, i.metadata(), MAX_METADATA, METADATA_COLUMN),
                utc(i.registeredAt()), utc(i.updatedAt()), utc(i.lastHeartbeatAt()));
    }

    /**
     * The map as stored, or a {@code 400 too-large} when it has more entries than a request may carry
     * or does not fit its column: a merge of two requests each within its limits can exceed them.
     */
    private String fitting(String what, ServiceInstance instance, Map<String, String> map, int maxEntries, int column) {
        String stored = json.writeValueAsString(map);
        if (map.size() > maxEntries || stored.length() > column) {
            throw new RegistryException(HttpStatus.BAD_REQUEST, "too-large", "the " + what + " of instance '" + instance.id()
                    + "' would be " + map.size() + " entries, " + stored.length() + " characters stored; at most " + maxEntries
                    + " entries and " + column + " characters fit (together with those it already has); send fewer or shorter ones");
        }
        return stored;
    }

    private static Object nullable(Object value) {
        return value == null ? new org.springframework.jdbc.core.SqlParameterValue(java.sql.Types.VARCHAR, null) : value;
    }

    /** The heartbeat fast path: one UPDATE, succeeding only for a RUNNING instance at that incarnation. */
    public boolean touchRunning(String id, long incarnation, Instant now) {
        return jdbc.sql("UPDATE service_instance SET last_heartbeat_at = ? WHERE id = ? AND incarnation = ? AND state = 'RUNNING'")
                .params(utc(now), id, incarnation).update() == 1;
    }

    /** One heartbeat to record: who, which incarnation, when it arrived. */
    public record Touch(String id, long incarnation, Instant at) {}

    /**
     * {@link #touchRunning} for many heartbeats in one statement batch (the caller's transaction):
     * for each, whether it was recorded (a RUNNING instance at that incarnation). Callers sort by id,
     * so concurrent batches lock rows in one order.
     */
    public boolean[] touchRunning(List<Touch> touches) {
        int[] counts = jdbcTemplate.batchUpdate("UPDATE service_instance SET last_heartbeat_at = ? WHERE id = ? AND incarnation = ? "
                        + "AND state = 'RUNNING'", touches.stream()
                .map(t -> new Object[] {utc(t.at()), t.id(), t.incarnation()}).toList());
        boolean[] recorded = new boolean[counts.length];
        for (int i = 0; i < counts.length; i++) {
            recorded[i] = counts[i] == 1;
        }
        return recorded;
    }

    /** A move of the failure detector: the instance as it read it, where to, why. */
    public record Move(ServiceInstance seen, InstanceState to, String reason) {}

    /**
     * Moves each instance only if it is still exactly as the caller saw it (state, incarnation, and last
     * heartbeat), so the failure detector never overrides a heartbeat that arrived meanwhile: one
     * statement batch (callers sort by id); for each, whether it moved.
     */
    public boolean[] moveIfUnchanged(List<Move> moves, Instant now) {
        int[] counts = jdbcTemplate.batchUpdate("UPDATE service_instance SET state = ?, state_reason = ?, updated_at = ? "
                        + "WHERE id = ? AND incarnation = ? AND state = ? AND last_heartbeat_at = ?", moves.stream()
                .map(m -> new Object[] {m.to().name(), m.reason(), utc(now), m.seen().id(), m.seen().incarnation(), m.seen().state().name(),
                        utc(m.seen().lastHeartbeatAt())}).toList());
        boolean[] moved = new boolean[counts.length];
        for (int i = 0; i < counts.length; i++) {
            moved[i] = counts[i] == 1;
        }
        return moved;
    }

    /** Monitored instances whose last heartbeat is older than the cutoff, oldest first. */
    public List<ServiceInstance> overdue(Instant cutoff, int limit) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM service_instance WHERE state IN ('RUNNING', 'SUSPECT') AND last_heartbeat_at < ? "
                        + "ORDER BY last_heartbeat_at FETCH FIRST " + limit + " ROWS ONLY")
                .param(utc(cutoff)).query(rows).list();
    }

    public void deleteSessionsOf(String id) {
        Deferred deferred = deferred();
        if (deferred == null) {
            jdbc.sql(DELETE_SESSIONS).param(id).update();
        } else {
            deferred.sessionDeletes.add(new Object[] {id});
        }
    }

    public void delete(String id) {
        write(DELETE, List.of(id), id, Optional.empty());
    }

    public void appendTransition(String id, long incarnation, InstanceState from, InstanceState to, String reason, Instant at) {
        Object[] params = {id, incarnation, from == null ? nullable(null) : from.name(), to.name(), reason, utc(at), id};
        Deferred deferred = deferred();
        if (deferred == null) {
            jdbc.sql(APPEND_TRANSITION).params(params).update();
        } else {
            deferred.transitions.add(params);
        }
    }

    /** At most {@code limit} steps of an instance's history after the step {@code afterSeq}, in order. */
    public List<StateTransition> history(String id, long afterSeq, int limit) {
        return jdbc.sql("SELECT seq, incarnation, from_state, to_state, reason, at FROM state_transition WHERE instance_id = ? AND seq > ? "
                        + "ORDER BY seq FETCH FIRST " + limit + " ROWS ONLY")
                .params(id, afterSeq)
                .query((rs, n) -> new StateTransition(rs.getLong("seq"), rs.getLong("incarnation"),
                        rs.getString("from_state") == null ? null : InstanceState.valueOf(rs.getString("from_state")),
                        InstanceState.valueOf(rs.getString("to_state")), rs.getString("reason"),
                        instant(rs.getObject("at", OffsetDateTime.class))))
                .list();
    }

    public Map<InstanceState, Long> countByState() {
        Map<InstanceState, Long> counts = new EnumMap<>(InstanceState.class);
        for (InstanceState state : InstanceState.values()) {
            counts.put(state, 0L);
        }
        jdbc.sql("SELECT state, COUNT(*) AS n FROM service_instance GROUP BY state")
                .query((rs, n) -> counts.put(InstanceState.valueOf(rs.getString("state")), rs.getLong("n"))).list();
        return counts;
    }
}
