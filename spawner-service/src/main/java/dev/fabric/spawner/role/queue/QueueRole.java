package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.Role;
import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.RolePolicy;
import dev.fabric.spawner.role.StateUnrecoverableException;
import dev.fabric.spawner.role.journal.JournalRecovery;
import dev.fabric.spawner.web.SpawnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code queue} role: a work queue served under {@code /queue/v1} (docs/queue.md), its messages kept
 * in a journal in the member's data directory so a restart under the same id brings them back.
 * A queue that lost its journal is not replaced: its messages are gone, and the application must
 * hear it.
 */
@Component
@Profile("member")
public class QueueRole implements Role {

    public static final String NAME = "queue";

    static final String BASE_PATH = "/queue/v1";

    private static final Logger log = LoggerFactory.getLogger(QueueRole.class);

    private final Clock clock;
    private final int compactMinRecords;
    /** Between {@link #recover} and {@link #start}: the queue read back from the journal. */
    private WorkQueue recovered;
    private volatile WorkQueue queue;

    @Autowired
    public QueueRole() {
        this(Clock.systemUTC(), WorkQueue.DEFAULT_COMPACT_MIN_RECORDS);
    }

    QueueRole(Clock clock, int compactMinRecords) {
        this.clock = clock;
        this.compactMinRecords = compactMinRecords;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RolePolicy policy() {
        return new RolePolicy(false);
    }

    @Override
    public synchronized void recover(RoleContext context) throws StateUnrecoverableException {
        closeQuietly(recovered);
        recovered = null;
        recovered = JournalRecovery.recover(context, NAME, QueueJournal.FILE_NAME,
                () -> WorkQueue.open(context.dataDirectory(), context.restart(), clock, compactMinRecords));
    }

    @Override
    public synchronized void start(RoleContext context) {
        WorkQueue opened = recovered;
        recovered = null;
        if (opened == null) {
            opened = JournalRecovery.start(context, NAME, () -> WorkQueue.open(context.dataDirectory(), false, clock, compactMinRecords));
        }
        queue = opened;
        log.info("queue {} incarnation {}: serving {} with journal {}", context.serviceId(), context.incarnation(), BASE_PATH,
                opened.journalFile());
    }

    @Override
    public synchronized void stop() {
        WorkQueue current = queue;
        queue = null;
        closeQuietly(current);
        closeQuietly(recovered);
        recovered = null;
    }

    @Override
    public Map<String, Object> status() {
        WorkQueue current = queue;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("started", current != null);
        if (current != null) {
            WorkQueue.Stats stats = current.stats();
            status.put("ready", stats.ready());
            status.put("leased", stats.leased());
            status.put("acked", stats.acked());
            status.put("journalBytes", stats.journalBytes());
        }
        return status;
    }

    @Override
    public Map<String, String> endpoints() {
        return Map.of(NAME, BASE_PATH);
    }

    /** The running queue. */
    WorkQueue queue() {
        WorkQueue current = queue;
        if (current == null) {
            throw notStarted();
        }
        return current;
    }

    static SpawnerException notStarted() {
        return new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "queue-not-started", "queue role not started: this member "
                + "does not run the queue role, or has not been configured for it yet, or is stopping; retry once it is RUNNING");
    }

    private static void closeQuietly(WorkQueue queue) {
        if (queue == null) {
            return;
        }
        try {
            queue.close();
        } catch (IOException e) {
            // Every record was forced when written: nothing is lost by a failed close.
            log.warn("queue journal {}: close failed: {}", queue.journalFile(), e.toString());
        }
    }
}
