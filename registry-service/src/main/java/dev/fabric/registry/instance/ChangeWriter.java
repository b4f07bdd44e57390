package dev.fabric.registry.instance;

import dev.fabric.registry.database.WriterConnections;
import dev.fabric.registry.watch.ChangeLog;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Group commit for the writes that record a change (registrations, state changes, reports, sessions,
 * the failure detector's moves): one thread writes them, many to a transaction.
 *
 * <p>Every recorded change is numbered under the single revision row lock, so such writes serialise
 * in the database anyway; one transaction each made them queue behind each other's commits and lock
 * waits (250 registrations a second queued for up to 112 s in the detection benchmark, docs/benchmarks.md).
 * Here a batch takes the revision lock once, first, reads and locks the rows of its instances with
 * one query, runs its writes one after the other in instance-id order (as the heartbeat writer and
 * the detector lock rows, so none of them waits on another in a cycle), holding their statements
 * until the end ({@link InstanceRepository.Deferred}, {@link ChangeLog.Numbering}), sends them as a
 * few statement batches and commits once; each caller is answered after that commit. Under load it
 * is the database round trips, not the work, that limit how many changes a second are recorded, and
 * a batch costs a handful of them however many changes it carries. A write that fails is answered
 * with its own failure and takes nothing else with it: the batch is rolled back and run again, each
 * write at once and with a savepoint around it.
 *
 * <p>The failure detector's moves ({@link #writeFirst}) go ahead of every queued request, in a
 * transaction of their own, so a burst of registrations never delays a death. A request that waits
 * longer than {@code timeout} for its turn, or finds {@code max-queued} waiting, is answered {@code 503
 * registry-busy} with {@code Retry-After} and never runs.
 */
@Component
public class ChangeWriter implements SmartLifecycle {

    /**
     * {@code fabric.registry.writes.*}.
     *
     * @param batch how many writes one transaction carries at most (default 500)
     * @param timeout how long a write waits for its turn before a 503 (default 10 s)
     * @param maxQueued how many requests' writes may wait at once; one more is refused at once (default 5,000)
     */
    @ConfigurationProperties("fabric.registry.writes")
    public record Properties(@DefaultValue("500") int batch, @DefaultValue("10s") Duration timeout,
                             @DefaultValue("5000") int maxQueued) {}

    public static final String BATCH_METRIC = "fabric.registry.writes.batch";
    public static final String QUEUED_METRIC = "fabric.registry.writes.queued";
    private static final Logger log = LoggerFactory.getLogger(ChangeWriter.class);
    /** How soon a refused caller may try again: a few batches' time. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    private static final int QUEUED = 0;
    private static final int TAKEN = 1;
    private static final int CANCELLED = 2;

    /** A queued write: the instance it changes (null: the detector's, which goes first), the work, and its outcome. */
    private static final class Pending<T> {
        final String instanceId;
        final Supplier<T> work;
        final CompletableFuture<T> done = new CompletableFuture<>();
        final AtomicInteger state = new AtomicInteger(QUEUED);
        T result;
        RuntimeException failure;

        Pending(String instanceId, Supplier<T> work) {
            this.instanceId = instanceId;
            this.work = work;
        }

        boolean first() {
            return instanceId == null;
        }

        void run() {
            result = work.get();
        }

        void answer(RuntimeException batchFailure) {
            if (failure != null) {
                done.completeExceptionally(failure);
            } else if (batchFailure != null) {
                done.completeExceptionally(batchFailure);
            } else {
                done.complete(result);
            }
        }
    }

    private final Properties properties;
    private final ChangeLog changes;
    private final InstanceRepository instances;
    private final TransactionTemplate transactions;
    private final TransactionTemplate savepoints;
    private final DistributionSummary batches;
    private final BlockingDeque<Pending<?>> queue = new LinkedBlockingDeque<>();
    private volatile Thread writer;
    private volatile boolean running;

    public ChangeWriter(Properties properties, ChangeLog changes, InstanceRepository instances,
                        PlatformTransactionManager transactionManager, MeterRegistry meters) {
        this.properties = properties;
        this.changes = changes;
        this.instances = instances;
        this.transactions = new TransactionTemplate(transactionManager);
        this.savepoints = new TransactionTemplate(transactionManager);
        this.savepoints.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
        this.batches = DistributionSummary.builder(BATCH_METRIC).description("writes committed together in one transaction")
                .register(meters);
        meters.gaugeCollectionSize(QUEUED_METRIC, List.of(), queue);
    }

    /**
     * Runs work that changes the instance {@code instanceId} in the next batch; returns its result once
     * committed. With {@code max-queued} writes waiting already it is refused at once, {@code 503
     * registry-busy} with {@code Retry-After}: a caller told to come back soon does better than one
     * whose signed request ages in a queue it cannot see.
     */
    public <T> T write(String instanceId, Supplier<T> work) {
        if (queue.size() >= properties.maxQueued()) {
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "registry-busy", "the registry has " + properties.maxQueued()
                    + " changes waiting to be recorded; nothing was changed, retry after the time Retry-After names", RETRY_AFTER);
        }
        Pending<T> pending = new Pending<>(instanceId, work);
        queue.addLast(pending);
        return await(pending);
    }

    /** Runs the failure detector's work ahead of every queued request, in a transaction of its own. */
    public <T> T writeFirst(Supplier<T> work) {
        Pending<T> pending = new Pending<>(null, work);
        queue.addFirst(pending);
        return await(pending);
    }

    private <T> T await(Pending<T> pending) {
        try {
            try {
                return pending.done.get(properties.timeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (pending.state.compareAndSet(QUEUED, CANCELLED)) {
                    queue.remove(pending);
                    throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "registry-busy", "the registry has had more changes "
                            + "queued than it could record for " + properties.timeout().toSeconds() + " s; nothing was changed, retry shortly", RETRY_AFTER);
                }
                // Taken into a batch: its outcome comes with that batch's commit.
                return pending.done.get(properties.timeout().toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "registry-busy", "the change was being recorded but its "
                    + "transaction did not finish within " + properties.timeout().toSeconds() + " s; read the instance before retrying");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.state.compareAndSet(QUEUED, CANCELLED);
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "shutting-down", "the registry is shutting down");
        }
    }

    /** The writer's loop. It is never interrupted: an interrupt inside a database call may close the connection's file or socket. */
    private void run() {
        while (running) {
            List<Pending<?>> batch = new ArrayList<>();
            try {
                Pending<?> first = queue.pollFirst(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                break;
            }
            if (!batch.getFirst().first()) {
                while (batch.size() < properties.batch()) {
                    Pending<?> next = queue.pollFirst();
                    if (next == null) {
                        break;
                    }
                    if (next.first()) {
                        queue.addFirst(next);
                        break;
                    }
                    batch.add(next);
                }
            }
            List<Pending<?>> taken = new ArrayList<>(batch.stream().filter(p -> p.state.compareAndSet(QUEUED, TAKEN)).toList());
            if (!taken.isEmpty()) {
                write(taken);
            }
        }
    }

    private void write(List<Pending<?>> batch) {
        // A stable sort: two writes to one instance stay in the order they came.
        batch.sort(Comparator.comparing(p -> p.first() ? "" : p.instanceId));
        RuntimeException failed = null;
        boolean made;
        try {
            made = transaction(batch, false);
        } catch (RuntimeException e) {
            log.debug("a batch of {} changes failed as a whole, making them one by one: {}", batch.size(), e.getMessage());
            made = false;
        }
        try {
            if (!made) {
                batch.forEach(p -> p.failure = null);
                transaction(batch, true);
            }
        } catch (RuntimeException e) {
            log.debug("a batch of {} changes failed: {}", batch.size(), e.getMessage());
            failed = e;
        }
        batches.record(batch.size());
        for (Pending<?> p : batch) {
            p.answer(failed);
        }
    }

    /**
     * One transaction for the batch. Without savepoints its statements are held and sent together at
     * the end, and it stops at the first write that fails, rolls back and returns false (the caller
     * runs the batch again); with savepoints each write's statements go at once and a write that fails
     * is rolled back alone and keeps its failure.
     */
    private boolean transaction(List<Pending<?>> batch, boolean withSavepoints) {
        List<String> ids = batch.stream().filter(p -> !p.first()).map(p -> p.instanceId).toList();
        return Boolean.TRUE.equals(transactions.execute(status -> {
            try (ChangeLog.Numbering numbering = changes.open();
                 InstanceRepository.Deferred deferred = withSavepoints ? null : instances.defer(ids)) {
                for (Pending<?> p : batch) {
                    int mark = numbering.mark();
                    try {
                        if (withSavepoints) {
                            savepoints.executeWithoutResult(nested -> p.run());
                        } else {
                            p.run();
                        }
                    } catch (RuntimeException e) {
                        p.failure = e;
                        numbering.rollBackTo(mark);
                        if (!withSavepoints) {
                            status.setRollbackOnly();
                            return false;
                        }
                    }
                }
                if (deferred != null) {
                    deferred.flush();
                }
                numbering.flush();
                return true;
            }
        }));
    }

    /** Starts before the web server and stops after it, so no request finds it stopped. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }

    @Override
    public void start() {
        running = true;
        // Its own connection (WriterConnections): a batch never waits behind requests for a pooled one.
        writer = Thread.ofPlatform().daemon().name("change-writer").start(() -> WriterConnections.run(this::run));
    }

    @Override
    public void stop() {
        Thread running = writer;
        writer = null;
        this.running = false;
        if (running != null) {
            try {
                running.join(properties.timeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Pending<?>> left = new ArrayList<>();
        queue.drainTo(left);
        RegistryException stopping = new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "shutting-down", "the registry is shutting down");
        left.forEach(p -> p.done.completeExceptionally(stopping));
    }

    @Override
    public boolean isRunning() {
        return writer != null;
    }
}
