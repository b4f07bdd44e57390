package dev.fabric.registry.heartbeat;

import dev.fabric.registry.database.WriterConnections;
import dev.fabric.registry.instance.InstanceRepository;
import dev.fabric.registry.instance.InstanceService;
import dev.fabric.registry.instance.InstanceService.Detection;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.registry.watch.ChangeLog;
import dev.fabric.registry.watch.WatchController;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.dao.DataAccessException;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Declares members SUSPECT after {@code suspect-after} missed heartbeats and DEAD after
 * {@code dead-after}, on the one replica that holds the {@link DetectorLease}. Each move is
 * conditional on the instance being unchanged since it was read, so a heartbeat that lands meanwhile
 * wins. {@value #LAG_METRIC} records how long after its deadline each death was noticed.
 *
 * <p>Time in which the detector could not look ({@link LocalPauses}: the registry did not run for
 * more than {@code max-local-pause}, as its watch thread and the detector's own reads of the clock
 * see, or a pass its database refused) does not count toward anyone's silence: after the registry
 * was paused, starved or cut off from its database, its members have their heartbeats taken before
 * any is declared dead. {@value #PAUSES_METRIC} counts the times it did not run, and for how long.
 */
@Component
public class FailureDetector implements SmartLifecycle {

    public static final String LAG_METRIC = "fabric.registry.detector.lag";
    public static final String PAUSES_METRIC = "fabric.registry.detector.pauses";
    private static final Logger log = LoggerFactory.getLogger(FailureDetector.class);
    /**
     * Moves read and made per round of a pass. A round costs a few database round trips whatever its
     * size (one query, one statement batch, one commit), and when thousands of members fall silent at
     * once their deaths fall due within one interval: large rounds keep the pass short under load.
     */
    private static final int BATCH = 2000;

    private final InstanceRepository instances;
    private final InstanceService service;
    private final HeartbeatProperties properties;
    private final DetectorLease lease;
    private final TaskScheduler scheduler;
    private final Clock clock;
    private final Timer lag;
    private final AtomicBoolean leader = new AtomicBoolean();
    private final ChangeLog changes;
    private final WatchController.WatchProperties watch;
    private final LocalPauses pauses;
    private final Timer paused;
    private volatile ScheduledFuture<?> task;
    private volatile Thread watching;
    /** When the last pass ended, so a pass its database refuses knows since when it could not look; null before the first. */
    private Instant lastPassEnded;

    public FailureDetector(InstanceRepository instances, InstanceService service, HeartbeatProperties properties, DetectorLease lease,
                           TaskScheduler scheduler, Clock clock, MeterRegistry meters, ChangeLog changes,
                           WatchController.WatchProperties watch) {
        this.changes = changes;
        this.watch = watch;
        this.instances = instances;
        this.service = service;
        this.properties = properties;
        this.lease = lease;
        this.scheduler = scheduler;
        this.clock = clock;
        this.lag = Timer.builder(LAG_METRIC).description("time from a member's death deadline to its detection")
                .publishPercentileHistogram().register(meters);
        meters.gauge("fabric.registry.detector.leader", leader, held -> held.get() ? 1 : 0);
        this.pauses = new LocalPauses(properties.maxLocalPause(), properties.deadThreshold().multipliedBy(2));
        this.paused = Timer.builder(PAUSES_METRIC).description("times the registry did not run for longer than max-local-pause, and how long")
                .register(meters);
    }

    /**
     * The detector starts at {@code now}: before it, this registry took no heartbeats (it was not
     * running: a restart, an upgrade), so that time counts toward no member's silence either, as any
     * other span it could not look. A member's silence counts from now at the earliest.
     */
    void started(Instant now) {
        pauses.couldNotLook(Instant.EPOCH, now);
        observe(now);
    }

    /** One pass: returns how many instances moved. The replica holding the lease also compacts the change log. */
    public int pass() {
        Instant started = clock.instant();
        boolean late = !observe(started).isZero();
        try {
            // Its reads and its lease on connections of their own (WriterConnections), never waiting behind requests.
            return WriterConnections.call(this::detect);
        } catch (DataAccessException | TransactionException couldNotLook) {
            // The database refused the detector (and, as surely, the heartbeats meanwhile): the registry
            // itself could not take them, so this time counts toward no member's silence either.
            leader.set(false);
            pauses.couldNotLook(lastPassEnded == null || late ? started : lastPassEnded, clock.instant());
            throw couldNotLook;
        } finally {
            lastPassEnded = clock.instant();
        }
    }

    private int detect() {
        boolean holds = lease.holds();
        leader.set(holds);
        if (!holds) {
            return 0;
        }
        long keepFrom = changes.currentRevision() - watch.retention() + 1;
        if (keepFrom > changes.oldestRetained()) {
            changes.pruneBefore(keepFrom);
        }
        int moved = 0;
        // Observed right before judging: a stop since the last look (even one half-way through this
        // pass, as in the lease's query above) is a span before any silence is measured across it.
        Instant now = clock.instant();
        observe(now);
        Instant cutoff = now.minus(properties.suspectThreshold());
        List<ServiceInstance> overdue;
        do {
            overdue = instances.overdue(cutoff, BATCH);
            List<Detection> due = new ArrayList<>();
            for (ServiceInstance seen : overdue) {
                Duration unwatched = pauses.within(seen.lastHeartbeatAt(), now);
                Duration silent = Duration.between(seen.lastHeartbeatAt(), now).minus(unwatched);
                String counted = "no heartbeat for " + silent.toMillis() + " ms"
                        + (unwatched.isZero() ? "" : " (not counting " + unwatched.toMillis()
                                + " ms the registry could not look: paused, cut off or not yet started)");
                if (silent.compareTo(properties.deadThreshold()) >= 0) {
                    due.add(new Detection(seen, InstanceState.DEAD, counted + " (dead after " + properties.deadAfter() + " missed)"));
                } else if (silent.compareTo(properties.suspectThreshold()) >= 0 && seen.state() == InstanceState.RUNNING) {
                    due.add(new Detection(seen, InstanceState.SUSPECT, counted + " (suspect after " + properties.suspectAfter() + " missed)"));
                }
            }
            // In id order, as the heartbeat writer locks rows, so the two never wait on each other.
            due.sort(Comparator.comparing(d -> d.seen().id()));
            List<Detection> made = service.detectAll(due);
            Instant recorded = clock.instant();
            for (Detection d : made) {
                if (d.to() == InstanceState.DEAD) {
                    lag.record(Duration.between(d.seen().lastHeartbeatAt().plus(properties.deadThreshold()), recorded));
                }
            }
            int movedThisBatch = made.size();
            moved += movedThisBatch;
            // Only SUSPECT instances not yet due remain when nothing moved: stop instead of re-reading them.
            if (movedThisBatch == 0) {
                break;
            }
        } while (overdue.size() == BATCH);
        return moved;
    }

    /**
     * Notes that the registry runs at {@code now}; when it had not run for longer than
     * {@code max-local-pause}, logs and counts it and returns for how long.
     */
    Duration observe(Instant now) {
        Duration late = pauses.observed(now);
        if (!late.isZero()) {
            paused.record(late);
            log.warn("failure detector: the registry ran {} ms late (a pause, a starved CPU or a stopped process); "
                    + "that time does not count toward any member's silence", late.toMillis());
        }
        return late;
    }

    /**
     * Reads the clock every quarter of {@code max-local-pause}, so a stop anywhere in the process is
     * seen however long the detector's passes take (a pass slowed by its database is not a pause).
     */
    private void watch() {
        Duration tick = properties.maxLocalPause().dividedBy(4);
        while (watching == Thread.currentThread()) {
            try {
                Thread.sleep(tick);
            } catch (InterruptedException stopped) {
                return;
            }
            observe(clock.instant());
        }
    }

    private void safePass() {
        try {
            pass();
        } catch (RuntimeException e) {
            log.warn("failure detector pass failed: {}", e.getMessage());
        }
    }

    @Override
    public void start() {
        started(clock.instant());
        watching = Thread.ofPlatform().daemon().name("registry-pause-watch").start(this::watch);
        task = scheduler.scheduleWithFixedDelay(this::safePass, properties.detectorPeriod());
        log.info("failure detector: heartbeat every {}, SUSPECT after {} missed, DEAD after {} missed, checked every {}",
                properties.interval(), properties.suspectAfter(), properties.deadAfter(), properties.detectorPeriod());
    }

    @Override
    public void stop() {
        ScheduledFuture<?> running = task;
        if (running != null) {
            running.cancel(false);
        }
        task = null;
        Thread watcher = watching;
        watching = null;
        if (watcher != null) {
            watcher.interrupt();
        }
        lease.close();
        leader.set(false);
    }

    @Override
    public boolean isRunning() {
        return task != null;
    }
}
