package dev.fabric.registry.watch;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry's numbered change log, written in the same transaction as each change. A transaction
 * that records changes first takes the single revision row's lock ({@link #open}), so revisions
 * commit in order: a watcher that has seen revision n and asks for "after n" can never miss one
 * committed later with a smaller number. Changes are numbered in memory while the lock is held and
 * written in one statement batch before the commit ({@link Numbering#flush}); the change-recording
 * transactions are the {@code ChangeWriter}'s.
 */
@Repository
public class ChangeLog {

    private final JdbcClient jdbc;
    private final JdbcTemplate jdbcTemplate;
    private final JsonMapper json;

    public ChangeLog(JdbcClient jdbc, JdbcTemplate jdbcTemplate, JsonMapper json) {
        this.jdbc = jdbc;
        this.jdbcTemplate = jdbcTemplate;
        this.json = json;
    }

    /**
     * Takes the revision lock for the rest of the current transaction and numbers the changes recorded
     * in it, until {@link Numbering#flush} writes them and {@link Numbering#close} lets go.
     */
    public Numbering open() {
        long revision = jdbc.sql("SELECT revision FROM registry_revision WHERE id = 1 FOR UPDATE").query(Long.class).single();
        Numbering numbering = new Numbering(revision);
        TransactionSynchronizationManager.bindResource(this, numbering);
        return numbering;
    }

    /**
     * The changes of one transaction, numbered from the revision it locked. {@link #mark} and
     * {@link #rollBackTo} forget the changes of a part of it that was rolled back to a savepoint.
     */
    public final class Numbering implements AutoCloseable {
        private final long locked;
        private final List<Object[]> rows = new ArrayList<>();

        private Numbering(long locked) {
            this.locked = locked;
        }

        long next(String instanceId, ChangeEvent.Kind kind, String payload, Instant at) {
            long revision = locked + rows.size() + 1;
            rows.add(new Object[] {revision, instanceId, kind.name(), payload, at.atOffset(ZoneOffset.UTC)});
            return revision;
        }

        /** How many changes are numbered so far. */
        public int mark() {
            return rows.size();
        }

        /** Forgets the changes numbered after the mark. */
        public void rollBackTo(int mark) {
            rows.subList(mark, rows.size()).clear();
        }

        /** Writes the numbered changes and the new revision (one batch, one update); call before the commit. */
        public void flush() {
            if (rows.isEmpty()) {
                return;
            }
            jdbcTemplate.batchUpdate("INSERT INTO change_event (revision, instance_id, kind, payload, at) VALUES (?, ?, ?, ?, ?)", rows);
            jdbc.sql("UPDATE registry_revision SET revision = ? WHERE id = 1").param(locked + rows.size()).update();
            rows.clear();
        }

        @Override
        public void close() {
            TransactionSynchronizationManager.unbindResourceIfPossible(ChangeLog.this);
        }
    }

    /**
     * Records a change; must run inside a transaction that {@link #open opened} the numbering (the
     * {@code ChangeWriter}'s). The stored JSON is the payload's fields plus {@code at}, the time of the
     * change. Returns its revision.
     */
    public long append(String instanceId, ChangeEvent.Kind kind, Map<String, ?> payload, Instant at) {
        if (!(TransactionSynchronizationManager.getResource(this) instanceof Numbering numbering)) {
            throw new IllegalStateException("a change is recorded only inside a transaction that holds the revision lock "
                    + "(ChangeWriter)");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("at", at);
        body.putAll(payload);
        return numbering.next(instanceId, kind, json.writeValueAsString(body), at);
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
