package dev.fabric.registry.heartbeat;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.registry.instance.ChangeWriter;
import dev.fabric.registry.instance.InstanceRepository;
import dev.fabric.registry.instance.InstanceService;
import dev.fabric.registry.watch.ChangeLog;
import dev.fabric.registry.watch.WatchController;
import dev.fabric.testsupport.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.support.JdbcTransactionManager;
import tools.jackson.databind.json.JsonMapper;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Time in which the detector could not look counts toward no member's silence, on a real (in-memory
 * H2) database with the registry's schema and a clock the test moves.
 *
 * <p>The registry's database stops answering for 30 s and comes back: meanwhile every heartbeat
 * would have been refused {@code 503 database-unavailable}. A member that heartbeats again once it
 * can is not declared DEAD for the outage; one that stays silent is declared DEAD by the time it has
 * been silent while the registry could listen. Before, the first pass after the outage declared every
 * member DEAD.
 *
 * <p>The registry process is stopped half-way through a pass (SIGSTOP, a long pause): the pass
 * started on time, so the lateness of its start does not show the stop. Before, that pass declared
 * every member DEAD (and when it did not, the stop went unrecorded and unlogged).
 */
class CouldNotLookDetectionTest {

    static final Duration PERIOD = Duration.ofMillis(500);

    /** The database as the registry reaches it: it refuses every new connection while {@code down}. */
    static final class Reachable extends DelegatingDataSource {
        volatile boolean down;

        Reachable(JdbcDataSource database) {
            super(database);
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (down) {
                throw new SQLTransientConnectionException("connection refused", "08001");
            }
            return super.getConnection();
        }
    }

    /** The embedded database's lease, which runs {@code whileAsked} as the detector asks for it. */
    static final class Lease implements DetectorLease {
        volatile Runnable whileAsked = () -> {};

        @Override
        public boolean holds() {
            whileAsked.run();
            return true;
        }

        @Override
        public void close() {}
    }

    final MutableClock clock = new MutableClock(Instant.parse("2026-12-05T06:00:00Z"));
    final Lease lease = new Lease();
    final Reachable database;
    final ChangeWriter writer;
    final InstanceService service;
    final FailureDetector detector;

    CouldNotLookDetectionTest() {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:outage-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        Flyway.configure().dataSource(h2).load().migrate();
        database = new Reachable(h2);
        JsonMapper json = JsonMapper.builder().build();
        ChangeLog changes = new ChangeLog(JdbcClient.create(database), new JdbcTemplate(database), json);
        InstanceRepository instances = new InstanceRepository(JdbcClient.create(database), new JdbcTemplate(database), json);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        writer = new ChangeWriter(new ChangeWriter.Properties(500, Duration.ofSeconds(10), 5000), changes, instances,
                new JdbcTransactionManager(database), meters);
        writer.start();
        service = new InstanceService(instances, changes, clock, writer);
        detector = new FailureDetector(instances, service, new HeartbeatProperties(Duration.ofSeconds(2), 3, 5, PERIOD, Duration.ofHours(1),
                null), lease, null, clock, meters, changes, new WatchController.WatchProperties(Duration.ofMillis(200),
                Duration.ofSeconds(15), 100_000, 200));
    }

    @AfterEach
    void stop() {
        writer.stop();
    }

    void register(String id) {
        service.register(new RegistrationRequest(id, "agent", null, InstanceState.RUNNING, 1L, null, null, null, null));
    }

    InstanceState state(String id) {
        return service.get(id).state();
    }

    @Test
    void timeTheDatabaseRefusedTheDetectorCountsTowardNoMembersSilence() {
        register("kept-trying");
        register("gone");
        for (int i = 0; i < 4; i++) {
            clock.advance(PERIOD);
            detector.pass();
        }

        database.down = true;
        for (int i = 0; i < 60; i++) {
            clock.advance(PERIOD);
            assertThatThrownBy(detector::pass).isInstanceOf(DataAccessException.class);
        }
        database.down = false;

        clock.advance(PERIOD);
        detector.pass();
        assertThat(state("kept-trying")).as("its heartbeats were refused by the registry, not missed").isEqualTo(InstanceState.RUNNING);
        assertThat(state("gone")).isEqualTo(InstanceState.RUNNING);

        for (int i = 0; i < 24; i++) {
            if (i % 4 == 0) {
                service.heartbeat("kept-trying", 1);
            }
            clock.advance(PERIOD);
            detector.pass();
        }
        assertThat(state("kept-trying")).isEqualTo(InstanceState.RUNNING);
        assertThat(state("gone")).as("silent for 14 s of the registry's listening").isEqualTo(InstanceState.DEAD);
    }

    @Test
    void aStopHalfWayThroughAPassCountsTowardNoMembersSilence() {
        register("kept-beating");
        register("gone");
        for (int i = 0; i < 4; i++) {
            service.heartbeat("kept-beating", 1);
            service.heartbeat("gone", 1);
            clock.advance(PERIOD);
            detector.pass();
        }

        // The process stops for 20 s (twice the dead threshold) while the pass asks for its lease.
        lease.whileAsked = () -> {
            clock.advance(Duration.ofSeconds(20));
            lease.whileAsked = () -> {};
        };
        clock.advance(PERIOD);
        detector.pass();
        assertThat(state("kept-beating")).as("its heartbeats waited for the stopped registry").isEqualTo(InstanceState.RUNNING);
        assertThat(state("gone")).isEqualTo(InstanceState.RUNNING);

        for (int i = 0; i < 24; i++) {
            if (i % 4 == 0) {
                service.heartbeat("kept-beating", 1);
            }
            clock.advance(PERIOD);
            detector.pass();
        }
        assertThat(state("kept-beating")).isEqualTo(InstanceState.RUNNING);
        assertThat(state("gone")).as("silent for 12 s of the registry's running").isEqualTo(InstanceState.DEAD);
    }

    /**
     * The registry process ends and starts again 47 s later (killed, upgraded): its members' last
     * heartbeats are 47 s old when its first pass runs. Before, that pass declared them all DEAD and
     * their spawners restarted every one.
     */
    @Test
    void theTimeBeforeTheRegistryStartedCountsTowardNoMembersSilence() {
        register("came-back");
        register("gone");
        clock.advance(Duration.ofSeconds(47));

        detector.started(clock.instant());
        clock.advance(PERIOD);
        detector.pass();
        assertThat(state("came-back")).as("its heartbeats had nowhere to go").isEqualTo(InstanceState.RUNNING);
        assertThat(state("gone")).isEqualTo(InstanceState.RUNNING);

        for (int i = 0; i < 24; i++) {
            if (i % 4 == 0) {
                service.heartbeat("came-back", 1);
            }
            clock.advance(PERIOD);
            detector.pass();
        }
        assertThat(state("came-back")).isEqualTo(InstanceState.RUNNING);
        assertThat(state("gone")).as("silent for 12.5 s of the registry's running").isEqualTo(InstanceState.DEAD);
    }

    @Test
    void aStopTheWatchSawCountsTowardNoMembersSilenceThoughEveryPassStartedOnTime() {
        register("kept-beating");
        clock.advance(PERIOD);
        detector.pass();

        // Stopped for 20 s after a pass had judged: the watch thread's next read of the clock sees it.
        clock.advance(Duration.ofSeconds(20));
        assertThat(detector.observe(clock.instant())).isEqualTo(Duration.ofSeconds(20));
        clock.advance(Duration.ofMillis(100));
        detector.pass();
        assertThat(state("kept-beating")).isEqualTo(InstanceState.RUNNING);
    }
}
