package dev.fabric.registry.web;

import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.problem.ProblemTranslator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;

import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The registry's one problem that it does not throw itself: its database does not answer. That is
 * a {@code 503 database-unavailable} with {@code Retry-After: 2}, never a 500, so callers retry
 * (or fail over to another replica) instead of giving up.
 */
@Component
public class DatabaseProblems implements ProblemTranslator {

    private static final Logger log = LoggerFactory.getLogger(DatabaseProblems.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(2);

    @Override
    public Optional<ProblemException> translate(Throwable failure) {
        boolean unavailable = failure instanceof CannotGetJdbcConnectionException || failure instanceof CannotCreateTransactionException
                || failure instanceof DataAccessResourceFailureException || failure instanceof TransientDataAccessException
                || lostDatabase(failure);
        if (!unavailable) {
            return Optional.empty();
        }
        log.warn("database unavailable: {}", failure.getMessage());
        return Optional.of(new ProblemException(503, "database-unavailable", "the registry's database does not answer; retry shortly",
                RETRY_AFTER));
    }

    /**
     * Whether a failure comes from losing the database: a connection-class SQLState ({@code 08}), the
     * server going away ({@code 57P}: shutdown, crash, not accepting connections), a refused
     * connection, or a rollback that failed (which only a broken connection does). Causes, suppressed
     * exceptions and a transaction's original exception are all looked at.
     */
    static boolean lostDatabase(Throwable e) {
        Deque<Throwable> pending = new ArrayDeque<>(List.of(e));
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        while (!pending.isEmpty()) {
            Throwable cause = pending.pop();
            if (!seen.add(cause)) {
                continue;
            }
            if (cause instanceof SQLTransientConnectionException || cause instanceof SQLNonTransientConnectionException
                    || cause instanceof SQLRecoverableException || cause instanceof ConnectException) {
                return true;
            }
            if (cause instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
            if (cause instanceof TransactionSystemException tx) {
                if (tx.getCause() instanceof SQLException) {
                    return true;
                }
                if (tx.getApplicationException() != null) {
                    pending.push(tx.getApplicationException());
                }
            }
            if (cause.getCause() != null) {
                pending.push(cause.getCause());
            }
            for (Throwable suppressed : cause.getSuppressed()) {
                pending.push(suppressed);
            }
        }
        return false;
    }
}
