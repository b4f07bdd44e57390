package dev.fabric.spawner.spawn;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.FabricId;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.MemberLog;
import dev.fabric.spawner.web.SpawnerException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.Valid;
import org.springframework.context.annotation.Lazy;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import java.net.URI;
import java.util.List;

/**
 * The spawner's management API, served by the root spawner and by every member on its management
 * port: spawn, list, restart and stop the members this node supervises. Every request is signed.
 * A member answers once it is RUNNING ({@code 503 not-ready} before).
 */
@RestController
public class SpawnController {

    private static final int MAX_LOG_BYTES = 1 << 20;

    private final SpawnService spawner;
    private final Supervisor supervisor;

    public SpawnController(@Lazy SpawnService spawner, Supervisor supervisor) {
        this.spawner = spawner;
        this.supervisor = supervisor;
    }

    @Operation(summary = "Spawn a member of a role; it bootstraps in the background (watch its state in the registry)")
    @ApiResponse(responseCode = "202", description = "accepted: the member, PENDING or BOOTSTRAPPING; Location names it")
    @ProblemAnswer(status = 400, reasons = {"unknown-role", "invalid-resources", "unknown-host", "invalid-via"})
    @ProblemAnswer(status = 502, reasons = {"launch-failed", "registry-unreachable", "registry-refused"})
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "a member not RUNNING yet, or a spawner that cannot reach the registry yet")
    @PostMapping("/api/v1/spawns")
    public ResponseEntity<ServiceInstance> spawn(@Valid @RequestBody SpawnRequest request) {
        supervisor.requireSupervising();
        ServiceInstance instance = spawner.spawn(request);
        // Absolute, as the registry's Location is: the spawner's own address as the client reached it.
        URI member = ServletUriComponentsBuilder.fromCurrentContextPath().path("/api/v1/members/{id}").buildAndExpand(instance.id()).toUri();
        return ResponseEntity.accepted().location(member).body(instance);
    }

    @Operation(summary = "A member's spawner is about to restart it under its id: the stop that follows leaves the member's own "
            + "members running for its next incarnation to take back (it would stop them with stop-members-on-shutdown)")
    @ApiResponse(responseCode = "204", description = "noted")
    @ProblemAnswer(status = 409, reasons = "not-a-member", when = "the root spawner")
    @PostMapping("/management/v1/restarting")
    public ResponseEntity<Void> restarting() {
        supervisor.restarting();
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "The members this node supervises: those it spawned and those it adopted")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "a member not RUNNING yet, or a spawner that cannot reach the registry yet")
    @GetMapping("/api/v1/members")
    public List<ServiceInstance> members() {
        supervisor.requireSupervising();
        return spawner.members();
    }

    @Operation(summary = "One member")
    @ProblemAnswer(status = 404, reasons = "unknown-member")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "a member not RUNNING yet, or a spawner that cannot reach the registry yet")
    @GetMapping("/api/v1/members/{id}")
    public ServiceInstance member(@PathVariable @FabricId String id) {
        supervisor.requireSupervising();
        return spawner.member(id);
    }

    @Operation(summary = "Restart a member under its id with a new incarnation (a live old one is stopped first); with "
            + "?incarnation=N only if it is still at N, so callers that saw the same death restart it once")
    @ApiResponse(responseCode = "202", description = "accepted: the member's new incarnation")
    @ProblemAnswer(status = 404, reasons = "unknown-member")
    @ProblemAnswer(status = 409, reasons = {"member-lost", "member-stopped", "crash-loop"})
    @ProblemAnswer(status = 502, reasons = {"launch-failed", "registry-unreachable", "registry-refused"})
    @ProblemAnswer(status = 503, reasons = {"not-ready", "old-incarnation-may-run"})
    @PostMapping("/api/v1/members/{id}/restart")
    public ResponseEntity<ServiceInstance> restart(@PathVariable @FabricId String id, @RequestParam(required = false) Long incarnation) {
        supervisor.requireSupervising();
        if (incarnation == null) {
            return ResponseEntity.accepted().body(spawner.restart(id, "restart requested"));
        }
        if (incarnation < 1) {
            // Incarnations count from 1; a smaller one would otherwise read as "whichever it is at".
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "incarnation must be 1 or more, was " + incarnation);
        }
        return ResponseEntity.accepted().body(spawner.restartIfAt(id, incarnation, "restart requested (incarnation " + incarnation + ")"));
    }

    @Operation(summary = "The end of a member's log (every incarnation's output), as its launcher captured it; "
            + "?bytes=N (1 to 1048576, default 65536) says how much")
    @ApiResponse(responseCode = "200", description = "the end of the member's log")
    @ProblemAnswer(status = 404, reasons = {"unknown-member", "no-log"})
    @ProblemAnswer(status = 502, reasons = "log-unreadable")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "a member not RUNNING yet, or a spawner that cannot reach the registry yet")
    @GetMapping("/api/v1/members/{id}/log")
    public MemberLog log(@PathVariable @FabricId String id, @RequestParam(defaultValue = "65536") int bytes) {
        supervisor.requireSupervising();
        if (bytes < 1 || bytes > MAX_LOG_BYTES) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "bytes must be 1 to " + MAX_LOG_BYTES + ", was " + bytes);
        }
        return spawner.log(id, bytes);
    }

    @Operation(summary = "Stop a member")
    @ProblemAnswer(status = 404, reasons = "unknown-member")
    @ProblemAnswer(status = 502, reasons = {"registry-unreachable", "registry-refused"}, when = "the registry call under the request failed")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "a member not RUNNING yet, or a spawner that cannot reach the registry yet")
    @DeleteMapping("/api/v1/members/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void stop(@PathVariable @FabricId String id) {
        supervisor.requireSupervising();
        spawner.stop(id);
    }
}
