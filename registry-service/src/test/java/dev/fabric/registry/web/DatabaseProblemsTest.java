package dev.fabric.registry.web;

import org.junit.jupiter.api.Test;
import org.springframework.transaction.TransactionSystemException;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class DatabaseProblemsTest {

    @Test
    void aFailedRollbackAfterTheServerWentAwayIsALostDatabase() {
        TransactionSystemException rollback = new TransactionSystemException("JDBC rollback failed", new SQLException("Connection is closed"));
        rollback.initApplicationException(new RuntimeException(new SQLException("terminating connection due to administrator command", "57P01")));
        assertThat(DatabaseProblems.lostDatabase(rollback)).isTrue();
    }

    @Test
    void connectionClassStatesAndRefusedConnectionsAreALostDatabase() {
        assertThat(DatabaseProblems.lostDatabase(new RuntimeException(new SQLException("no connection", "08006")))).isTrue();
        assertThat(DatabaseProblems.lostDatabase(new RuntimeException(new java.net.ConnectException("refused")))).isTrue();
        RuntimeException suppressing = new RuntimeException("outer");
        suppressing.addSuppressed(new SQLException("cannot connect now", "57P03"));
        assertThat(DatabaseProblems.lostDatabase(suppressing)).isTrue();
    }

    @Test
    void otherFailuresAreNot() {
        assertThat(DatabaseProblems.lostDatabase(new IllegalStateException("bug"))).isFalse();
        assertThat(DatabaseProblems.lostDatabase(new RuntimeException(new SQLException("duplicate key", "23505")))).isFalse();
    }

    @Test
    void aLostDatabaseIsA503WithRetryAfterAndOtherFailuresAreLeftAlone() {
        var problem = new DatabaseProblems().translate(new RuntimeException(new SQLException("no connection", "08006"))).orElseThrow();
        assertThat(problem.status()).isEqualTo(503);
        assertThat(problem.reason()).isEqualTo("database-unavailable");
        assertThat(problem.retryAfter()).contains(java.time.Duration.ofSeconds(2));
        assertThat(new DatabaseProblems().translate(new IllegalStateException("bug"))).isEmpty();
    }
}
