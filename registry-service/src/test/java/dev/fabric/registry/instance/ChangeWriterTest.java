package dev.fabric.registry.instance;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.registry.watch.ChangeEvent;
import dev.fabric.registry.watch.ChangeLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The change writer on a real (in-memory H2) database with the registry's schema: writes queued
 * together commit together, in instance-id order, numbered without gaps; one that fails is answered
 * alone; the detector's go first; one that waits too long is refused and never runs.
 */
class ChangeWriterTest {

    final JdbcDataSource database = new JdbcDataSource();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final JdbcClient jdbc;
    final ChangeLog changes;
    final InstanceRepository instances;
    final CountDownLatch release = new CountDownLatch(1);
    ChangeWriter writer;

    ChangeWriterTest() {
        database.setURL("jdbc:h2:mem:changes-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        Flyway.configure().dataSource(database).load().migrate();
        jdbc = JdbcClient.create(database);
        changes = new ChangeLog(jdbc, new JdbcTemplate(database), JsonMapper.builder().build());
        instances = new InstanceRepository(jdbc, new JdbcTemplate(database), JsonMapper.builder().build());
    }

    ChangeWriter start(Duration timeout) {
        return start(timeout, 5000);
    }

    ChangeWriter start(Duration timeout, int maxQueued) {
        writer = new ChangeWriter(new ChangeWriter.Properties(500, timeout, maxQueued), changes, instances, new JdbcTransactionManager(database),
                meters);
        writer.start();
        return writer;
    }

    @AfterEach
    void stop() {
        release.countDown();
        writer.stop();
    }

    long record(String id) {
        return changes.append(id, ChangeEvent.Kind.STATE, Map.of("reason", "test"), Instant.now());
    }

    /** Occupies the writer until {@link #release} opens, so the writes after it queue. */
    CompletableFuture<Long> blockTheWriter() {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Long> blocker = CompletableFuture.supplyAsync(() -> writer.write("blocker", () -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return record("blocker");
        }));
        await().until(() -> started.getCount() == 0);
        return blocker;
    }

    void awaitQueued(int count) {
        await().until(() -> meters.get(ChangeWriter.QUEUED_METRIC).gauge().value() == count);
    }

    List<String> logged() {
        return jdbc.sql("SELECT instance_id FROM change_event ORDER BY revision").query(String.class).list();
    }

    long revision() {
        return changes.currentRevision();
    }

    @Test
    void writesQueuedTogetherCommitInOneTransactionInInstanceIdOrder() {
        start(Duration.ofSeconds(10));
        CompletableFuture<Long> blocker = blockTheWriter();
        List<CompletableFuture<Long>> queued = List.of("z", "m", "b").stream()
                .map(id -> CompletableFuture.supplyAsync(() -> writer.write(id, () -> record(id)))).toList();
        awaitQueued(3);
        release.countDown();
        queued.forEach(CompletableFuture::join);
        assertThat(blocker.join()).isEqualTo(1);
        assertThat(logged()).containsExactly("blocker", "b", "m", "z");
        assertThat(queued.stream().map(CompletableFuture::join)).containsExactly(4L, 3L, 2L);
        assertThat(revision()).isEqualTo(4);
        assertThat(meters.get(ChangeWriter.BATCH_METRIC).summary().count()).isEqualTo(2);
        assertThat(meters.get(ChangeWriter.BATCH_METRIC).summary().max()).isEqualTo(3);
    }

    @Test
    void aWriteThatFailsIsAnsweredWithItsOwnFailureAndTakesNothingElseWithIt() {
        start(Duration.ofSeconds(10));
        CompletableFuture<Long> blocker = blockTheWriter();
        CompletableFuture<Long> a = CompletableFuture.supplyAsync(() -> writer.write("a", () -> record("a")));
        awaitQueued(1);
        CompletableFuture<Long> b = CompletableFuture.supplyAsync(() -> writer.write("b", () -> {
            record("b");
            jdbc.sql("INSERT INTO instance_session (session_id, instance_id, registered_at) VALUES ('s', 'b', CURRENT_TIMESTAMP)").update();
            throw new RegistryException(HttpStatus.CONFLICT, "stale-incarnation", "b is behind");
        }));
        awaitQueued(2);
        CompletableFuture<Long> duplicate = CompletableFuture.supplyAsync(() -> writer.write("c", () -> {
            record("c");
            jdbc.sql("INSERT INTO registry_revision (id, revision) VALUES (1, 0)").update();
            return 0L;
        }));
        awaitQueued(3);
        CompletableFuture<Long> d = CompletableFuture.supplyAsync(() -> writer.write("d", () -> record("d")));
        awaitQueued(4);
        release.countDown();
        blocker.join();

        assertThat(a.join()).isEqualTo(2);
        assertThat(d.join()).isEqualTo(3);
        assertThatThrownBy(b::join).cause().isInstanceOfSatisfying(RegistryException.class,
                e -> assertThat(e.reason()).isEqualTo("stale-incarnation"));
        assertThatThrownBy(duplicate::join).cause().isInstanceOf(org.springframework.dao.DuplicateKeyException.class);
        assertThat(logged()).containsExactly("blocker", "a", "d");
        assertThat(revision()).isEqualTo(3);
        assertThat(jdbc.sql("SELECT COUNT(*) FROM instance_session").query(Long.class).single()).isZero();
    }

    @Test
    void theDetectorsWritesGoAheadOfQueuedRequests() {
        start(Duration.ofSeconds(10));
        CompletableFuture<Long> blocker = blockTheWriter();
        List<CompletableFuture<Long>> requests = List.of("a", "b").stream()
                .map(id -> CompletableFuture.supplyAsync(() -> writer.write(id, () -> record(id)))).toList();
        awaitQueued(2);
        CompletableFuture<Long> detector = CompletableFuture.supplyAsync(() -> writer.writeFirst(() -> record("detector")));
        awaitQueued(3);
        release.countDown();
        blocker.join();
        requests.forEach(CompletableFuture::join);
        assertThat(detector.join()).isEqualTo(2);
        assertThat(logged()).containsExactly("blocker", "detector", "a", "b");
    }

    @Test
    void aWriteThatWaitsLongerThanTheTimeoutIsRefusedAndNeverRuns() {
        start(Duration.ofMillis(500));
        blockTheWriter();
        AtomicBoolean ran = new AtomicBoolean();
        assertThatThrownBy(() -> writer.write("late", () -> {
            ran.set(true);
            return record("late");
        })).isInstanceOfSatisfying(RegistryException.class, e -> {
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.reason()).isEqualTo("registry-busy");
            assertThat(e.retryAfter()).isPresent();
        });
        release.countDown();
        assertThat(writer.write("next", () -> record("next"))).isPositive();
        assertThat(ran).isFalse();
        assertThat(logged()).doesNotContain("late");
    }

    @Test
    void aWriteThatFindsTheQueueFullIsRefusedAtOnceWithRetryAfterAndNeverRuns() {
        start(Duration.ofMinutes(5), 2);
        CompletableFuture<Long> blocker = blockTheWriter();
        List<CompletableFuture<Long>> queued = List.of("a", "b").stream()
                .map(id -> CompletableFuture.supplyAsync(() -> writer.write(id, () -> record(id)))).toList();
        awaitQueued(2);
        AtomicBoolean ran = new AtomicBoolean();
        assertThatThrownBy(() -> writer.write("refused", () -> {
            ran.set(true);
            return record("refused");
        })).isInstanceOfSatisfying(RegistryException.class, e -> {
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.reason()).isEqualTo("registry-busy");
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(1));
        });
        release.countDown();
        blocker.join();
        queued.forEach(CompletableFuture::join);
        assertThat(ran).isFalse();
        assertThat(logged()).containsExactly("blocker", "a", "b");
    }

    static ServiceInstance instance(String id, InstanceState state) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return new ServiceInstance(id, "agent", id, state, "test", 1, null, Connectivity.DIRECT, Map.of(), Map.of(), now, now, now);
    }

    @Test
    void aBatchSeesItsOwnHeldWritesAndSendsThemInOrder() {
        start(Duration.ofSeconds(10));
        CompletableFuture<Long> blocker = blockTheWriter();
        CompletableFuture<Boolean> registered = CompletableFuture.supplyAsync(() -> writer.write("k", () -> {
            boolean absent = instances.lock("k").isEmpty();
            instances.insert(instance("k", InstanceState.RUNNING));
            instances.appendTransition("k", 1, null, InstanceState.RUNNING, "registered", Instant.now());
            return absent;
        }));
        awaitQueued(1);
        CompletableFuture<InstanceState> stopped = CompletableFuture.supplyAsync(() -> writer.write("k", () -> {
            ServiceInstance seen = instances.lock("k").orElseThrow();
            instances.update(instance("k", InstanceState.STOPPED));
            instances.appendTransition("k", 1, seen.state(), InstanceState.STOPPED, "stopped", Instant.now());
            return seen.state();
        }));
        awaitQueued(2);
        release.countDown();
        blocker.join();
        assertThat(registered.join()).isTrue();
        assertThat(stopped.join()).isEqualTo(InstanceState.RUNNING);
        assertThat(instances.find("k").orElseThrow().state()).isEqualTo(InstanceState.STOPPED);
        assertThat(instances.history("k", 0, 10)).extracting(t -> t.seq() + ":" + t.to()).containsExactly("1:RUNNING", "2:STOPPED");
    }

    @Test
    void aStatementThatFailsWhenTheBatchIsSentFailsOnlyItsWrite() {
        start(Duration.ofSeconds(10));
        writer.write("dup", () -> {
            instances.insert(instance("dup", InstanceState.RUNNING));
            return null;
        });
        CompletableFuture<Long> blocker = blockTheWriter();
        CompletableFuture<Object> again = CompletableFuture.supplyAsync(() -> writer.write("dup", () -> {
            instances.insert(instance("dup", InstanceState.PENDING));
            return record("dup");
        }));
        awaitQueued(1);
        CompletableFuture<Long> other = CompletableFuture.supplyAsync(() -> writer.write("e", () -> {
            instances.insert(instance("e", InstanceState.RUNNING));
            return record("e");
        }));
        awaitQueued(2);
        release.countDown();
        blocker.join();
        assertThatThrownBy(again::join).cause().isInstanceOf(org.springframework.dao.DuplicateKeyException.class);
        assertThat(other.join()).isEqualTo(2);
        assertThat(instances.find("e")).isPresent();
        assertThat(instances.find("dup").orElseThrow().state()).isEqualTo(InstanceState.RUNNING);
        assertThat(logged()).containsExactly("blocker", "e");
    }

    @Test
    void aChangeIsRecordedOnlyUnderTheRevisionLock() {
        start(Duration.ofSeconds(10));
        assertThatThrownBy(() -> record("outside")).isInstanceOf(IllegalStateException.class).hasMessageContaining("revision lock");
    }
}
