package dev.fabric.registry.web;

import org.junit.jupiter.api.Test;
import org.springframework.transaction.TransactionSystemException;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class ProblemAdviceTest {

    @Test
    void aFailedRollbackAfterTheServerWentAwayIsALostDatabase() {
        TransactionSystemException rollback = new TransactionSystemException("JDBC rollback failed", new SQLException("Connection is closed"));
        rollback.initApplicationException(new RuntimeException(new SQLException("terminating connection due to administrator command", "57P01")));
        assertThat(ProblemAdvice.lostDatabase(rollback)).isTrue();
    }

    @Test
    void connectionClassStatesAndRefusedConnectionsAreALostDatabase() {
        assertThat(ProblemAdvice.lostDatabase(new RuntimeException(new SQLException("no connection", "08006")))).isTrue();
        assertThat(ProblemAdvice.lostDatabase(new RuntimeException(new java.net.ConnectException("refused")))).isTrue();
        RuntimeException suppressing = new RuntimeException("outer");
        suppressing.addSuppressed(new SQLException("cannot connect now", "57P03"));
        assertThat(ProblemAdvice.lostDatabase(suppressing)).isTrue();
    }

    @Test
    void otherFailuresAreNot() {
        assertThat(ProblemAdvice.lostDatabase(new IllegalStateException("bug"))).isFalse();
        assertThat(ProblemAdvice.lostDatabase(new RuntimeException(new SQLException("duplicate key", "23505")))).isFalse();
    }
}
