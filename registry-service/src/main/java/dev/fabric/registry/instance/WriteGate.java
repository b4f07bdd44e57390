package dev.fabric.registry.instance;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs the writes that record a change, a few at a time, before they take a database connection.
 *
 * <p>Every recorded change numbers itself under the single revision row lock, so such writes
 * serialise in the database anyway. Letting hundreds of them each hold a pooled connection while
 * they wait for that lock would empty the pool and make heartbeats (which need no lock) fail. Here
 * they wait instead on a fair semaphore, which costs a parked virtual thread, and give up with
 * {@code 503 registry-busy} after {@code write-timeout}.
 */
@Component
public class WriteGate {

    /**
     * {@code fabric.registry.writes.*}.
     *
     * @param concurrency how many change-recording transactions run at once (default 4)
     * @param timeout how long a write waits for its turn before a 503 (default 10 s)
     */
    @ConfigurationProperties("fabric.registry.writes")
    public record Properties(@DefaultValue("4") int concurrency, @DefaultValue("10s") Duration timeout) {}

    private final Semaphore permits;
    private final Duration timeout;
    private final TransactionTemplate transactions;

    public WriteGate(Properties properties, PlatformTransactionManager transactionManager) {
        this.permits = new Semaphore(properties.concurrency(), true);
        this.timeout = properties.timeout();
        this.transactions = new TransactionTemplate(transactionManager);
    }

    /** Runs the work in its own transaction once a permit is free. */
    public <T> T write(Supplier<T> work) {
        try {
            if (!permits.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "registry-busy",
                        "the registry has had more changes queued than it could record for " + timeout.toSeconds() + " s; retry shortly");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "shutting-down", "the registry is shutting down");
        }
        try {
            return transactions.execute(status -> work.get());
        } finally {
            permits.release();
        }
    }
}
