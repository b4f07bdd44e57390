package dev.fabric.registry.heartbeat;

import dev.fabric.registry.database.WriterConnections;
import dev.fabric.registry.instance.InstanceRepository;
import dev.fabric.registry.instance.InstanceRepository.Touch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Group commit for stream heartbeats: heartbeats that arrive while a batch is being written wait for
 * the next, and each batch is one transaction (one database round of statements and one commit, so
 * one WAL flush for many heartbeats). A heartbeat's future completes after its batch has committed,
 * so a heartbeat the registry acknowledges is durable exactly as a signed one is. Two writers
 * alternate: one commits while the other gathers. Rows are updated in id order so that two batches
 * never wait on each other's row locks.
 */
@Component
public class HeartbeatWriter implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(HeartbeatWriter.class);
    public static final int WRITERS = 2;
    static final int MAX_BATCH = 2000;

    private record Pending(Touch touch, CompletableFuture<Boolean> recorded) {}

    private final InstanceRepository instances;
    private final TransactionTemplate transactions;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean running;

    public HeartbeatWriter(InstanceRepository instances, PlatformTransactionManager transactions) {
        this.instances = instances;
        this.transactions = new TransactionTemplate(transactions);
    }

    /**
     * Queues a heartbeat for the next batch; the future tells, once committed, whether it was recorded
     * (false: the instance is not RUNNING at that incarnation, for the slow path to explain), or fails
     * with the database's error.
     */
    public CompletableFuture<Boolean> record(Touch touch) {
        Pending pending = new Pending(touch, new CompletableFuture<>());
        queue.add(pending);
        return pending.recorded();
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (running) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            write(batch);
            batch.clear();
        }
    }

    private void write(List<Pending> batch) {
        batch.sort(Comparator.comparing(p -> p.touch().id()));
        try {
            boolean[] recorded = transactions.execute(status -> instances.touchRunning(batch.stream().map(Pending::touch).toList()));
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).recorded().complete(recorded[i]);
            }
        } catch (RuntimeException e) {
            log.debug("a batch of {} heartbeats failed: {}", batch.size(), e.getMessage());
            batch.forEach(p -> p.recorded().completeExceptionally(e));
        }
    }

    @Override
    public void start() {
        running = true;
        for (int i = 0; i < WRITERS; i++) {
            // Each its own connection (WriterConnections): a batch never waits behind requests for a pooled one.
            writers.add(Thread.ofPlatform().daemon().name("heartbeat-writer-" + i).start(() -> WriterConnections.run(this::run)));
        }
    }

    @Override
    public void stop() {
        running = false;
        writers.forEach(Thread::interrupt);
        writers.clear();
        List<Pending> left = new ArrayList<>();
        queue.drainTo(left);
        left.forEach(p -> p.recorded().completeExceptionally(new IllegalStateException("the registry is stopping")));
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
