package dev.fabric.registry.database;

import org.springframework.jdbc.datasource.lookup.AbstractRoutingDataSource;

import javax.sql.DataSource;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The registry's one {@link DataSource}, in front of two pools: one for requests, and one that
 * holds a connection for each of the threads that record what members do. Those threads (the change
 * writer, the heartbeat writers, the failure detector's pass and its lease) run their work through
 * {@link #run} and take their connections from the writers' pool, sized so that each always finds
 * one ({@link DatabaseConfiguration#WRITER_CONNECTIONS}). Every other thread (requests, the watch
 * feed, the gauges) uses the request pool ({@code spring.datasource.hikari.*}).
 *
 * <p>Why: when both shared one pool, a burst of registrations and stream handshakes emptied it, and
 * a batch of registrations or heartbeats that waited longer than the pool's connection timeout
 * failed whole with {@code 503 database-unavailable}: at 20,000 members 7,200 registrations and
 * 1,841 heartbeats were refused so, and members whose heartbeats the registry itself had refused
 * were declared DEAD (docs/benchmarks.md). Now requests can only wait for each other.
 */
public final class WriterConnections extends AbstractRoutingDataSource {

    /** Which pool a thread's statements use. */
    enum Pool { REQUESTS, WRITERS }

    private static final ScopedValue<Pool> POOL = ScopedValue.newInstance();

    WriterConnections(DataSource requests, DataSource writers) {
        setTargetDataSources(Map.of(Pool.REQUESTS, requests, Pool.WRITERS, writers));
        setDefaultTargetDataSource(requests);
        setLenientFallback(false);
        afterPropertiesSet();
    }

    /** Runs a writer's work (for a thread: its whole loop) with its statements on the writers' pool. */
    public static void run(Runnable work) {
        ScopedValue.where(POOL, Pool.WRITERS).run(work);
    }

    /** {@link #run}, for work with a result. */
    public static <T> T call(Callable<T> work) {
        try {
            return ScopedValue.where(POOL, Pool.WRITERS).call(work::call);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected Object determineCurrentLookupKey() {
        return POOL.orElse(Pool.REQUESTS);
    }
}
