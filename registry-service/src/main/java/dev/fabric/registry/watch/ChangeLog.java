package dev.fabric.registry.watch;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry's numbered change log, written in the same transaction as each change. Numbering
 * takes the single revision row's lock, so revisions commit in order: a watcher that has seen
 * revision n and asks for "after n" can never miss one committed later with a smaller number.
 */
@Repository
public class ChangeLog {

    private final JdbcClient jdbc;
    private final JsonMapper json;

    public ChangeLog(JdbcClient jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    /**
     * Records a change; must run inside the transaction that makes it. The stored JSON is the payload's
     * fields plus {@code at}, the time of the change. Returns its revision.
     */
    public long append(String instanceId, ChangeEvent.Kind kind, Map<String, ?> payload, Instant at) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("at", at);
        body.putAll(payload);
        jdbc.sql("UPDATE registry_revision SET revision = revision + 1 WHERE id = 1").update();
        long revision = jdbc.sql("SELECT revision FROM registry_revision WHERE id = 1").query(Long.class).single();
        jdbc.sql("INSERT INTO change_event (revision, instance_id, kind, payload, at) VALUES (?, ?, ?, ?, ?)")
                .params(revision, instanceId, kind.name(), json.writeValueAsString(body), at.atOffset(ZoneOffset.UTC))
                .update();
        return revision;
    }

    /** The revision of the last committed change (0 for an empty registry). */
    public long currentRevision() {
        return jdbc.sql("SELECT revision FROM registry_revision WHERE id = 1").query(Long.class).single();
    }

    /** The smallest revision still kept, or {@code currentRevision() + 1} when none is. */
    public long oldestRetained() {
        long oldest = jdbc.sql("SELECT COALESCE(MIN(revision), -1) FROM change_event").query(Long.class).single();
        return oldest < 0 ? currentRevision() + 1 : oldest;
    }

    public List<ChangeEvent> after(long revision, int limit) {
        return jdbc.sql("SELECT revision, instance_id, kind, payload, at FROM change_event WHERE revision > ? ORDER BY revision "
                        + "FETCH FIRST " + limit + " ROWS ONLY")
                .param(revision)
                .query((rs, n) -> new ChangeEvent(rs.getLong("revision"), rs.getString("instance_id"),
                        ChangeEvent.Kind.valueOf(rs.getString("kind")), rs.getString("payload"),
                        rs.getObject("at", OffsetDateTime.class).toInstant()))
                .list();
    }

    /** Forgets changes older than the given revision; watchers behind it must list again. */
    public int pruneBefore(long revision) {
        return jdbc.sql("DELETE FROM change_event WHERE revision < ?").param(revision).update();
    }
}
