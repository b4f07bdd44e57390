package dev.fabric.registry.heartbeat;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessResourceFailureException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The detector lease on a shared PostgreSQL: a session-level advisory lock held on one dedicated
 * connection. When the replica dies its connection drops and PostgreSQL frees the lock, so another
 * replica takes it on its next pass (within one detector period).
 */
public final class PostgresAdvisoryLease implements DetectorLease {

    /** The advisory lock key: "fabric-detector" folded into 64 bits. */
    static final long LOCK_KEY = 0x66616272_69636474L;
    private static final Logger log = LoggerFactory.getLogger(PostgresAdvisoryLease.class);

    private final DataSource dataSource;
    private Connection connection;
    private boolean held;

    public PostgresAdvisoryLease(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public synchronized boolean holds() {
        try {
            if (connection == null || !connection.isValid(1)) {
                release("its connection was lost");
                connection = dataSource.getConnection();
                connection.setAutoCommit(true);
            }
            if (held) {
                return true;
            }
            try (PreparedStatement statement = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                statement.setLong(1, LOCK_KEY);
                try (ResultSet result = statement.executeQuery()) {
                    held = result.next() && result.getBoolean(1);
                }
            }
            if (held) {
                log.info("this replica now runs the failure detector (PostgreSQL advisory lock {})", LOCK_KEY);
            }
            return held;
        } catch (SQLException e) {
            release("the database is unreachable: " + e.getMessage());
            throw new DataAccessResourceFailureException("cannot ask the database for the detector lease: " + e.getMessage(), e);
        }
    }

    private void release(String why) {
        if (held) {
            log.warn("this replica no longer runs the failure detector: {}", why);
        }
        held = false;
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // The connection is already broken.
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        if (held && connection != null) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
            } catch (SQLException ignored) {
                // Closing the connection frees it anyway.
            }
        }
        release("shutting down");
    }
}
