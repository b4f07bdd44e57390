package dev.fabric.spawner.role.queue;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.queue.QueueWire;
import dev.fabric.spawner.role.RoleRequests;
import dev.fabric.spawner.web.SpawnerException;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.fabric.spawner.role.RoleRequests.invalid;

/** The queue's HTTP API (docs/queue.md); answers 503 until the member runs the queue role. */
@RestController
@Profile("member")
@RequestMapping(QueueRole.BASE_PATH)
public class QueueController {

    static final int MAX_LEASE_BATCH = 1000;
    /** The most messages one bulk enqueue carries, and their most bytes together. */
    static final int MAX_BULK = 1000;
    static final long MAX_BULK_BYTES = 8L << 20;
    static final Duration MIN_VISIBILITY = Duration.ofSeconds(1);
    static final Duration MAX_VISIBILITY = Duration.ofHours(12);
    /** The longest a lease waits for a message: below the idle timeouts of callers and bridges. */
    static final Duration MAX_WAIT = Duration.ofSeconds(20);

    private final QueueRole role;

    public QueueController(QueueRole role) {
        this.role = role;
    }

    @ApiResponse(responseCode = "200", description = "the message's id (body), or the messages' ids in order (bodies)")
    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @PostMapping(path = "/messages", consumes = MediaType.APPLICATION_JSON_VALUE)
    Object enqueue(@RequestBody(required = false) QueueWire.Enqueue request) {
        WorkQueue queue = role.queue();
        if (request == null || (request.body() == null && request.bodies() == null)) {
            throw invalid("the request needs a JSON object with a text \"body\", e.g. {\"body\": \"resize image 42\"}, or \"bodies\", "
                    + "a list of texts (several messages, in order)");
        }
        if (request.body() != null && request.bodies() != null) {
            throw invalid("the request has both \"body\" and \"bodies\": send one message as \"body\", or several as \"bodies\"");
        }
        if (request.body() != null) {
            return new QueueWire.Enqueued(queue.enqueue(body(request.body(), "the body")).toString());
        }
        List<String> bodies = request.bodies();
        if (bodies.isEmpty() || bodies.size() > MAX_BULK) {
            throw invalid("\"bodies\" must hold 1 to " + MAX_BULK + " texts, not " + bodies.size());
        }
        List<byte[]> encoded = new ArrayList<>(bodies.size());
        long total = 0;
        for (int i = 0; i < bodies.size(); i++) {
            if (bodies.get(i) == null) {
                throw invalid("bodies[" + i + "] is null; every message needs a text body (it may be empty)");
            }
            encoded.add(body(bodies.get(i), "bodies[" + i + "]"));
            total += encoded.getLast().length;
        }
        if (total > MAX_BULK_BYTES) {
            throw invalid("the bodies are " + total + " bytes in UTF-8 together, over the limit of " + MAX_BULK_BYTES
                    + " bytes (8 MiB) for one request; send them in several");
        }
        return new QueueWire.EnqueuedAll(queue.enqueueAll(encoded).stream().map(UUID::toString).toList());
    }

    private static byte[] body(String text, String what) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        if (body.length > JournalFormat.MAX_BODY_BYTES) {
            throw invalid(what + " is " + body.length + " bytes in UTF-8, over the limit of " + JournalFormat.MAX_BODY_BYTES
                    + " bytes (256 KiB); store large payloads elsewhere and enqueue a reference");
        }
        return body;
    }

    /**
     * Leases messages; a body of {@code {"leaseIds": [...]}} (the bulk ack's) acks those leases first, durably, as
     * {@code POST /acks} would, so a consumer that finished some asks for more in the same request. With acks the
     * answer is always {@code 200} and says which were {@code refused}; without, {@code 204} when nothing was leased.
     */
    @ApiResponse(responseCode = "200", description = "the leased messages; with acks, also the leases refused")
    @ApiResponse(responseCode = "204", description = "no message was ready within wait (and the request acked none)", content = @Content)
    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @PostMapping("/leases")
    ResponseEntity<QueueWire.Leases> lease(@RequestParam(defaultValue = "1") String max,
                                           @RequestParam(defaultValue = "30s") String visibility,
                                           @RequestParam(defaultValue = "0s") String wait,
                                           @RequestBody(required = false) QueueWire.Acks acks) {
        WorkQueue queue = role.queue();
        int most = RoleRequests.number("max", max, 1, MAX_LEASE_BATCH);
        Duration leaseFor = visibility(visibility);
        Duration patience = waiting(wait);
        List<QueueWire.Refusal> refused = null;
        if (acks != null) {
            if (acks.leaseIds() == null || acks.leaseIds().isEmpty() || acks.leaseIds().size() > MAX_LEASE_BATCH) {
                throw invalid("a lease request's body, when it has one, is {\"leaseIds\": [...]} with 1 to " + MAX_LEASE_BATCH
                        + " lease ids to ack before leasing (none: send no body)");
            }
            refused = acknowledge(queue, acks.leaseIds());
        }
        List<WorkQueue.Leased> leased;
        try {
            leased = queue.lease(most, leaseFor, patience);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw QueueRole.notStarted();
        }
        if (leased.isEmpty() && refused == null) {
            return ResponseEntity.noContent().build();
        }
        return ResponseEntity.ok(new QueueWire.Leases(leased.stream()
                .map(m -> new QueueWire.LeasedMessage(m.id().toString(), m.leaseId().toString(),
                        new String(m.body(), StandardCharsets.UTF_8), m.deliveries(), m.deadline()))
                .toList(), refused));
    }

    /**
     * Withdraws a message no consumer holds: 204 when it is gone (again: 204), 409 {@code message-leased}
     * when a consumer holds it (its ack or nack decides), 404 {@code message-unknown}.
     */
    @ApiResponse(responseCode = "204", description = "withdrawn (or gone already)")
    @ProblemAnswer(status = 404, reasons = "message-unknown")
    @ProblemAnswer(status = 409, reasons = "message-leased")
    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @DeleteMapping("/messages/{id}")
    ResponseEntity<Void> withdraw(@PathVariable String id) {
        WorkQueue queue = role.queue();
        UUID messageId = uuid(id, "a message id; use an id that POST " + QueueRole.BASE_PATH + "/messages answered");
        if (!queue.withdraw(messageId)) {
            throw new SpawnerException(HttpStatus.CONFLICT, "message-leased", "message " + id + " is leased: its consumer holds it, and "
                    + "its ack or nack decides what becomes of it");
        }
        return ResponseEntity.noContent().build();
    }

    @ApiResponse(responseCode = "204", description = "acked (again: acked already)")
    @ProblemAnswer(status = 404, reasons = "lease-unknown")
    @ProblemAnswer(status = 409, reasons = {"lease-expired", "lease-nacked", "lease-acked"})
    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @DeleteMapping("/leases/{leaseId}")
    ResponseEntity<Void> ack(@PathVariable String leaseId) {
        WorkQueue queue = role.queue();
        queue.ack(leaseId(leaseId));
        return ResponseEntity.noContent().build();
    }

    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @PostMapping(path = "/acks", consumes = MediaType.APPLICATION_JSON_VALUE)
    QueueWire.AckedAll ackAll(@RequestBody(required = false) QueueWire.Acks request) {
        WorkQueue queue = role.queue();
        if (request == null || request.leaseIds() == null || request.leaseIds().isEmpty() || request.leaseIds().size() > MAX_LEASE_BATCH) {
            throw invalid("the request needs {\"leaseIds\": [...]} with 1 to " + MAX_LEASE_BATCH + " lease ids");
        }
        return new QueueWire.AckedAll(acknowledge(queue, request.leaseIds()));
    }

    /** Acks the leases with one journal write; answers the refused ones. */
    private static List<QueueWire.Refusal> acknowledge(WorkQueue queue, List<String> leaseIds) {
        if (leaseIds.isEmpty()) {
            return List.of();
        }
        List<UUID> ids = leaseIds.stream().map(QueueController::leaseId).toList();
        Map<UUID, SpawnerException> refused = queue.ackAll(ids);
        return refused.entrySet().stream()
                .map(e -> new QueueWire.Refusal(e.getKey().toString(), e.getValue().reason(), e.getValue().detail())).toList();
    }

    @ProblemAnswer(status = 404, reasons = "lease-unknown")
    @ProblemAnswer(status = 409, reasons = {"lease-expired", "lease-nacked", "lease-acked"})
    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @PostMapping("/leases/{leaseId}/extend")
    QueueWire.Extended extend(@PathVariable String leaseId, @RequestParam(defaultValue = "30s") String visibility) {
        WorkQueue queue = role.queue();
        return new QueueWire.Extended(queue.extend(leaseId(leaseId), visibility(visibility)));
    }

    @ApiResponse(responseCode = "204", description = "given back: ready again")
    @ProblemAnswer(status = 404, reasons = "lease-unknown")
    @ProblemAnswer(status = 409, reasons = {"lease-expired", "lease-nacked", "lease-acked"})
    @ProblemAnswer(status = 503, reasons = {"queue-not-started", "journal-unavailable"})
    @PostMapping("/leases/{leaseId}/nack")
    ResponseEntity<Void> nack(@PathVariable String leaseId) {
        WorkQueue queue = role.queue();
        queue.nack(leaseId(leaseId));
        return ResponseEntity.noContent().build();
    }

    @ProblemAnswer(status = 503, reasons = "queue-not-started")
    @GetMapping("/stats")
    QueueWire.Stats stats() {
        WorkQueue.Stats stats = role.queue().stats();
        return new QueueWire.Stats(stats.ready(), stats.leased(), stats.acked());
    }


    private static Duration visibility(String value) {
        return duration("visibility", value, MIN_VISIBILITY, MAX_VISIBILITY, "30s, 5m or 2h", "1s to 12h");
    }

    private static Duration waiting(String value) {
        return duration("wait", value, Duration.ZERO, MAX_WAIT, "0s, 500ms or 20s", "0s to " + MAX_WAIT.toSeconds() + "s");
    }

    /** A duration parameter: a bare number means seconds; "30s", "5m", "2h" and ISO-8601 ("PT30S") work too. */
    private static Duration duration(String name, String value, Duration min, Duration max, String examples, String range) {
        Duration duration;
        try {
            duration = DurationStyle.detectAndParse(value.strip(), ChronoUnit.SECONDS);
        } catch (IllegalArgumentException e) {
            throw invalid(name + " must be a duration such as " + examples + ", not '" + value + "'");
        }
        if (duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
            throw invalid(name + " must be from " + range + ", not '" + value + "'");
        }
        return duration;
    }

    private static UUID leaseId(String value) {
        return uuid(value, "a lease id; use the leaseId of a message from POST " + QueueRole.BASE_PATH + "/leases");
    }

    /** A UUID as the queue issues them, else 400 saying it is not {@code what}. */
    private static UUID uuid(String value, String what) {
        try {
            // UUID.fromString accepts short forms such as "1-2-3-4-5"; only the canonical one was ever issued.
            UUID id = UUID.fromString(value);
            if (id.toString().equalsIgnoreCase(value)) {
                return id;
            }
        } catch (IllegalArgumentException | NullPointerException e) {
            // answered below
        }
        throw invalid("'" + value + "' is not " + what);
    }
}
