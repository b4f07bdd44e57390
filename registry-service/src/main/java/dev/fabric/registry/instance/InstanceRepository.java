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
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
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

    /** Reads and row-locks the instance for the rest of the transaction. */
    public Optional<ServiceInstance> lock(String id) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM service_instance WHERE id = ? FOR UPDATE").param(id).query(rows).optional();
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
        jdbc.sql("INSERT INTO service_instance (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .params(values(instance)).update();
    }

    public void update(ServiceInstance instance) {
        List<Object> params = new ArrayList<>(values(instance).subList(1, 13));
        params.add(instance.id());
        jdbc.sql("UPDATE service_instance SET type = ?, name = ?, state = ?, state_reason = ?, incarnation = ?, parent_id = ?, "
                + "connectivity = ?, endpoints = ?, metadata = ?, registered_at = ?, updated_at = ?, last_heartbeat_at = ? WHERE id = ?")
                .params(params).update();
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

    /**
     * Moves an instance only if it is still exactly as the caller saw it (state, incarnation, and last
     * heartbeat), so the failure detector never overrides a heartbeat that arrived meanwhile.
     */
    public boolean moveIfUnchanged(ServiceInstance seen, InstanceState to, String reason, Instant now) {
        return jdbc.sql("UPDATE service_instance SET state = ?, state_reason = ?, updated_at = ? "
                        + "WHERE id = ? AND incarnation = ? AND state = ? AND last_heartbeat_at = ?")
                .params(to.name(), reason, utc(now), seen.id(), seen.incarnation(), seen.state().name(), utc(seen.lastHeartbeatAt()))
                .update() == 1;
    }

    /** Monitored instances whose last heartbeat is older than the cutoff, oldest first. */
    public List<ServiceInstance> overdue(Instant cutoff, int limit) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM service_instance WHERE state IN ('RUNNING', 'SUSPECT') AND last_heartbeat_at < ? "
                        + "ORDER BY last_heartbeat_at FETCH FIRST " + limit + " ROWS ONLY")
                .param(utc(cutoff)).query(rows).list();
    }

    public void deleteSessionsOf(String id) {
        jdbc.sql("DELETE FROM instance_session WHERE instance_id = ?").param(id).update();
    }

    public void delete(String id) {
        jdbc.sql("DELETE FROM service_instance WHERE id = ?").param(id).update();
    }

    public void appendTransition(String id, long incarnation, InstanceState from, InstanceState to, String reason, Instant at) {
        jdbc.sql("INSERT INTO state_transition (instance_id, seq, incarnation, from_state, to_state, reason, at) "
                        + "SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM state_transition WHERE instance_id = ?")
                .params(id, incarnation, from == null ? nullable(null) : from.name(), to.name(), reason, utc(at), id).update();
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
