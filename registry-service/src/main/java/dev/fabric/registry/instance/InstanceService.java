package dev.fabric.registry.instance;

import dev.fabric.core.registry.ReportRequest;
import dev.fabric.core.registry.StateChangeRequest;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.InstanceList;
import dev.fabric.core.registry.StateTransition;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.registry.watch.ChangeEvent;
import dev.fabric.registry.watch.ChangeLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/** Registrations, state changes, heartbeats and reports: every change recorded with its reason and numbered in the change log. */
@Service
public class InstanceService {

    private static final Logger log = LoggerFactory.getLogger(InstanceService.class);

    /** A change made: the instance after it, and whether it was created. */
    public record Registered(ServiceInstance instance, boolean created) {}

    private final InstanceRepository instances;
    private final ChangeLog changes;
    private final Clock clock;
    private final ChangeWriter writer;

    public InstanceService(InstanceRepository instances, ChangeLog changes, Clock clock, ChangeWriter writer) {
        this.instances = instances;
        this.changes = changes;
        this.clock = clock;
        this.writer = writer;
    }

    @Transactional(readOnly = true)
    public ServiceInstance get(String id) {
        return instances.find(id).orElseThrow(() -> RegistryException.unknown(id));
    }

    /** Every instance the filter matches (sessions are small; the API pages through {@link #list(InstanceFilter, String, int)}). */
    @Transactional(readOnly = true)
    public InstanceList list(InstanceFilter filter) {
        long revision = changes.currentRevision();
        return new InstanceList(revision, instances.list(filter, null, InstanceRepository.ALL));
    }

    /**
     * One page of the instances the filter matches, in id order, after the id {@code after} (null: from
     * the start), with the revision this page is at least as new as.
     */
    @Transactional(readOnly = true)
    public ListPage list(InstanceFilter filter, String after, int limit) {
        long revision = changes.currentRevision();
        Page<ServiceInstance> page = Page.of(instances.list(filter, after, limit + 1), limit);
        return new ListPage(new InstanceList(revision, page.items()), page.more());
    }

    /** A page of the instance list, and whether more follow. */
    public record ListPage(InstanceList list, boolean more) {}

    /** One page of an instance's history, in order, after the step {@code afterSeq} (0: from the first). */
    @Transactional(readOnly = true)
    public Page<StateTransition> history(String id, long afterSeq, int limit) {
        Page<StateTransition> page = Page.of(instances.history(id, afterSeq, limit + 1), limit);
        if (page.items().isEmpty() && (afterSeq <= 0 || instances.history(id, 0, 1).isEmpty())) {
            throw RegistryException.unknown(id);
        }
        return page;
    }

    public Registered register(RegistrationRequest request) {
        InstanceState state = request.state() == null ? InstanceState.RUNNING : request.state();
        if (state != InstanceState.PENDING && state != InstanceState.BOOTSTRAPPING && state != InstanceState.RUNNING) {
            throw new RegistryException(HttpStatus.BAD_REQUEST, "invalid-state",
                    "an instance registers as PENDING, BOOTSTRAPPING or RUNNING, not " + state);
        }
        String id = request.id() == null ? UUID.randomUUID().toString() : request.id();
        return writer.write(id, () -> doRegister(request, id, state));
    }

    private Registered doRegister(RegistrationRequest request, String id, InstanceState state) {
        Instant now = clock.instant();
        ServiceInstance existing = instances.lock(id).orElse(null);
        if (existing == null) {
            long incarnation = request.incarnation() == null ? 1 : request.incarnation();
            ServiceInstance created = fresh(id, request, state, incarnation, now);
            try {
                instances.insert(created);
            } catch (DuplicateKeyException e) {
                throw new RegistryException(HttpStatus.CONFLICT, "concurrent-registration",
                        "instance '" + id + "' was registered concurrently; retry with a higher incarnation");
            }
            record(created, null, state, "registered as incarnation " + incarnation, ChangeEvent.Kind.REGISTERED, now);
            return new Registered(created, true);
        }
        if (!existing.state().canRestart()) {
            throw new RegistryException(HttpStatus.CONFLICT, "instance-lost",
                    "instance '" + id + "' is LOST with all its state; start a fresh instance under a new id");
        }
        if (request.incarnation() == null) {
            throw new RegistryException(HttpStatus.CONFLICT, "incarnation-required", "instance '" + id + "' exists at incarnation "
                    + existing.incarnation() + "; a restart registers with a higher incarnation");
        }
        long incarnation = request.incarnation();
        if (incarnation < existing.incarnation()) {
            throw RegistryException.staleIncarnation(id, incarnation, existing.incarnation());
        }
        if (incarnation == existing.incarnation()) {
            // The same start going on: the spawner recorded it PENDING, the member now says it runs; or a retried call.
            if (state != existing.state() && !existing.state().canMoveTo(state)) {
                throw RegistryException.illegalTransition(id, existing.state(), state);
            }
            ServiceInstance updated = new ServiceInstance(id, existing.type(), existing.name(), state,
                    state == existing.state() ? existing.stateReason() : "registered " + state, incarnation, existing.parentId(),
                    existing.connectivity(), merge(existing.endpoints(), request.endpoints()), merge(existing.metadata(), request.metadata()),
                    existing.registeredAt(), now, state == InstanceState.RUNNING && existing.state() != InstanceState.RUNNING
                            ? now : existing.lastHeartbeatAt());
            requireSameType(existing, request);
            instances.update(updated);
            if (state != existing.state()) {
                record(updated, existing.state(), state, "registered " + state + " (incarnation " + incarnation + ")",
                        ChangeEvent.Kind.STATE, now);
            }
            recordAdoption(existing, updated, now);
            return new Registered(updated, false);
        }
        requireSameType(existing, request);
        ServiceInstance restarted = fresh(id, request, state, incarnation, now);
        instances.update(restarted);
        record(restarted, existing.state(), state, "restarted as incarnation " + incarnation + " (was " + existing.incarnation()
                + ", " + existing.state() + ")", ChangeEvent.Kind.REGISTERED, now);
        recordAdoption(existing, restarted, now);
        return new Registered(restarted, false);
    }

    /**
     * A registration that changes who supervises the instance (its metadata {@code supervisor}: a
     * member adopted by another node than its parent, docs/spawner.md) is a step of its history that
     * names the adopter.
     */
    private void recordAdoption(ServiceInstance before, ServiceInstance after, Instant now) {
        String supervisor = ServiceInstance.supervisorOf(after);
        String previous = ServiceInstance.supervisorOf(before);
        if (!Objects.equals(supervisor, previous)) {
            record(after, after.state(), after.state(), "adopted by " + supervisor + " (was supervised by " + previous + ")",
                    ChangeEvent.Kind.STATE, now);
        }
    }

    private static void requireSameType(ServiceInstance existing, RegistrationRequest request) {
        if (!existing.type().equals(request.type())) {
            throw new RegistryException(HttpStatus.CONFLICT, "type-mismatch", "instance '" + existing.id() + "' is of type '"
                    + existing.type() + "', not '" + request.type() + "'; a restart keeps its type");
        }
    }

    private static ServiceInstance fresh(String id, RegistrationRequest request, InstanceState state, long incarnation, Instant now) {
        return new ServiceInstance(id, request.type(), request.name() == null ? id : request.name(), state,
                "registered " + state, incarnation, request.parentId(),
                request.connectivity() == null ? Connectivity.DIRECT : request.connectivity(),
                request.endpoints() == null ? Map.of() : Map.copyOf(request.endpoints()),
                request.metadata() == null ? Map.of() : Map.copyOf(request.metadata()), now, now, now);
    }

    private static Map<String, String> merge(Map<String, String> current, Map<String, String> update) {
        if (update == null) {
            return current;
        }
        Map<String, String> merged = new LinkedHashMap<>(current);
        merged.putAll(update);
        return merged;
    }

    public ServiceInstance changeState(String id, StateChangeRequest request) {
        return writer.write(id, () -> doChangeState(id, request));
    }

    private ServiceInstance doChangeState(String id, StateChangeRequest request) {
        Instant now = clock.instant();
        ServiceInstance current = instances.lock(id).orElseThrow(() -> RegistryException.unknown(id));
        requireIncarnation(current, request.incarnation());
        InstanceState to = request.state();
        if (to == current.state()) {
            if (!to.recordsSteps() || request.reason() == null || request.reason().isBlank()) {
                return current;
            }
            // A bootstrap step (launched, keys released, configured...): history shows where a bootstrap stopped.
            ServiceInstance stepped = moved(current, to, request.reason(), now, merge(current.endpoints(), request.endpoints()));
            instances.update(stepped);
            record(stepped, to, to, request.reason(), ChangeEvent.Kind.STATE, now);
            return stepped;
        }
        if (!current.state().canMoveTo(to)) {
            throw RegistryException.illegalTransition(id, current.state(), to);
        }
        String reason = request.reason() == null || request.reason().isBlank() ? "reported " + to : request.reason();
        ServiceInstance moved = moved(current, to, reason, now, merge(current.endpoints(), request.endpoints()));
        instances.update(moved);
        record(moved, current.state(), to, reason, ChangeEvent.Kind.STATE, now);
        return moved;
    }

    private static ServiceInstance moved(ServiceInstance current, InstanceState to, String reason, Instant now,
                                         Map<String, String> endpoints) {
        Instant heartbeat = to == InstanceState.RUNNING && current.state() != InstanceState.RUNNING ? now : current.lastHeartbeatAt();
        return new ServiceInstance(current.id(), current.type(), current.name(), to, StateReasons.fit(reason), current.incarnation(), current.parentId(),
                current.connectivity(), endpoints, current.metadata(), current.registeredAt(), now, heartbeat);
    }

    private static void requireIncarnation(ServiceInstance current, long presented) {
        if (presented < current.incarnation()) {
            throw RegistryException.staleIncarnation(current.id(), presented, current.incarnation());
        }
        if (presented > current.incarnation()) {
            throw new RegistryException(HttpStatus.CONFLICT, "unknown-incarnation", "instance '" + current.id() + "' is at incarnation "
                    + current.incarnation() + "; register incarnation " + presented + " before reporting for it");
        }
    }

    /**
     * A heartbeat: one autocommit UPDATE for a RUNNING instance, outside the change writer; anything else
     * (a SUSPECT coming back, or an error to explain) takes the slow path.
     */
    public void heartbeat(String id, long incarnation) {
        if (instances.touchRunning(id, incarnation, clock.instant())) {
            return;
        }
        slowHeartbeat(id, incarnation);
    }

    /**
     * The heartbeat of an instance that is not RUNNING at that incarnation: a SUSPECT one comes back
     * to RUNNING; anything else is refused with its reason ({@code stale-incarnation},
     * {@code not-running}...).
     */
    public void slowHeartbeat(String id, long incarnation) {
        writer.write(id, () -> {
            revive(id, incarnation);
            return null;
        });
    }

    private void revive(String id, long incarnation) {
        Instant now = clock.instant();
        ServiceInstance current = instances.lock(id).orElseThrow(() -> RegistryException.unknown(id));
        requireIncarnation(current, incarnation);
        if (current.state() != InstanceState.SUSPECT) {
            String next = switch (current.state()) {
                case DEAD, FAILED, STOPPED -> "; it must register again with a new incarnation";
                default -> "; only a RUNNING instance heartbeats";
            };
            throw new RegistryException(HttpStatus.CONFLICT, "not-running", "instance '" + id + "' is " + current.state() + next);
        }
        // moved() stamps the heartbeat and the update time when an instance comes back to RUNNING.
        ServiceInstance revived = moved(current, InstanceState.RUNNING, "heartbeat resumed", now, current.endpoints());
        instances.update(revived);
        record(revived, InstanceState.SUSPECT, InstanceState.RUNNING, "heartbeat resumed", ChangeEvent.Kind.STATE, now);
    }

    public ServiceInstance report(String id, ReportRequest report) {
        return writer.write(id, () -> doReport(id, report));
    }

    private ServiceInstance doReport(String id, ReportRequest report) {
        Instant now = clock.instant();
        ServiceInstance current = instances.lock(id).orElseThrow(() -> RegistryException.unknown(id));
        String by = report.reporter() == null ? "a member" : report.reporter();
        String why = report.reason() == null ? "" : ": " + report.reason();
        return switch (report.kind()) {
            case UNREACHABLE -> {
                if (report.incarnation() != null && report.incarnation() != current.incarnation()) {
                    yield current;
                }
                if (current.state() != InstanceState.RUNNING) {
                    yield current;
                }
                String reason = StateReasons.fit("reported unreachable by " + by + why);
                ServiceInstance suspect = moved(current, InstanceState.SUSPECT, reason, now, current.endpoints());
                instances.update(suspect);
                record(suspect, current.state(), InstanceState.SUSPECT, reason, ChangeEvent.Kind.STATE, now);
                yield suspect;
            }
            case FAILED -> {
                if (report.incarnation() == null) {
                    throw new RegistryException(HttpStatus.BAD_REQUEST, "incarnation-required",
                            "a FAILED report names the incarnation that failed");
                }
                requireIncarnation(current, report.incarnation());
                if (current.state() == InstanceState.FAILED) {
                    yield current;
                }
                if (!current.state().canMoveTo(InstanceState.FAILED)) {
                    throw RegistryException.illegalTransition(id, current.state(), InstanceState.FAILED);
                }
                String reason = StateReasons.fit("failed, reported by " + by + why);
                ServiceInstance failed = moved(current, InstanceState.FAILED, reason, now, current.endpoints());
                instances.update(failed);
                record(failed, current.state(), InstanceState.FAILED, reason, ChangeEvent.Kind.STATE, now);
                yield failed;
            }
        };
    }

    public void deregister(String id) {
        writer.write(id, () -> {
            doDeregister(id);
            return null;
        });
    }

    private void doDeregister(String id) {
        Instant now = clock.instant();
        ServiceInstance current = instances.lock(id).orElseThrow(() -> RegistryException.unknown(id));
        instances.deleteSessionsOf(id);
        instances.delete(id);
        if (current.state() != InstanceState.STOPPED) {
            instances.appendTransition(id, current.incarnation(), current.state(), InstanceState.STOPPED, "deregistered", now);
        }
        changes.append(id, ChangeEvent.Kind.DEREGISTERED, Map.of("instance", current), now);
        log.info("instance {} (incarnation {}) deregistered", id, current.incarnation());
    }

    /** A move the failure detector decided: the instance as it read it, where to, why. */
    public record Detection(ServiceInstance seen, InstanceState to, String reason) {}

    /**
     * The failure detector's moves of one pass, in one transaction: each only if the instance is unchanged
     * since the detector read it (so a heartbeat that landed meanwhile wins), recorded and numbered in
     * the change log; one commit for all. When many members fall silent at once, thousands of moves are due within one
     * detector period; one transaction each would queue them behind each other for longer than the
     * interval the detector promises. They go ahead of every queued request ({@link ChangeWriter#writeFirst}).
     * Returns the moves made, in order.
     */
    public List<Detection> detectAll(List<Detection> detections) {
        if (detections.isEmpty()) {
            return List.of();
        }
        return writer.writeFirst(() -> {
            Instant now = clock.instant();
            List<InstanceRepository.Move> moves = detections.stream()
                    .map(d -> new InstanceRepository.Move(d.seen(), d.to(), StateReasons.fit(d.reason()))).toList();
            boolean[] moved = instances.moveIfUnchanged(moves, now);
            List<Detection> made = new ArrayList<>();
            for (int i = 0; i < moves.size(); i++) {
                if (moved[i]) {
                    InstanceRepository.Move m = moves.get(i);
                    record(moved(m.seen(), m.to(), m.reason(), now, m.seen().endpoints()), m.seen().state(), m.to(), m.reason(),
                            ChangeEvent.Kind.STATE, now);
                    made.add(detections.get(i));
                }
            }
            return made;
        });
    }

    private void record(ServiceInstance instance, InstanceState from, InstanceState to, String given, ChangeEvent.Kind kind,
                        Instant now) {
        String reason = StateReasons.fit(given);
        instances.appendTransition(instance.id(), instance.incarnation(), from, to, reason, now);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("instance", instance);
        if (!Objects.equals(from, to)) {
            payload.put("from", from);
            payload.put("to", to);
        }
        payload.put("reason", reason);
        changes.append(instance.id(), kind, payload, now);
        log.info("instance {} (incarnation {}): {} -> {}: {}", instance.id(), instance.incarnation(), from, to, reason);
    }
}
