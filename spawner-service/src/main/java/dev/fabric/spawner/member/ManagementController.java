package dev.fabric.spawner.member;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.web.SpawnerException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.util.Map;

/**
 * The management port every member has: its status, its role, the session ids it serves, and
 * CONNECT for applications that failed over. Every request is signed with the fabric key.
 */
@RestController
@Validated
@Profile("member")
public class ManagementController {

    private final MemberNode node;

    public ManagementController(MemberNode node) {
        this.node = node;
    }

    /** {@code POST /management/v1/connect}: an application attaches to a session this member serves. */
    public record Connect(@NotBlank @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String session) {}

    /** The answer to CONNECT: who answered and where its role serves. */
    public record Connected(String id, long incarnation, String role, Map<String, String> endpoints) {}

    @Operation(summary = "Who this member is, its phase and its role's status; with ?challenge=, signed with its bootstrap key "
            + "(the spawner's check in step 4a)")
    @ProblemAnswer(status = 400, reasons = "invalid-challenge")
    @GetMapping("/management/v1/status")
    public BootstrapWire.Status status(@RequestParam(required = false) String challenge) {
        if (challenge != null && !BootstrapProofs.wellFormed(challenge)) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-challenge", "a challenge is 22 to 128 base64url characters");
        }
        return node.status(challenge);
    }

    @Operation(summary = "Configure the member's role (its spawner does this once, during the bootstrap)")
    @ProblemAnswer(status = 400, reasons = "unknown-role")
    @ProblemAnswer(status = 409, reasons = {"already-configured", "not-ready", "state-unrecoverable"})
    @ProblemAnswer(status = 500, reasons = "role-failed")
    @ProblemAnswer(status = 502, reasons = {"bridge-unreachable", "registry-unreachable"})
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "the member is stopping")
    @PutMapping("/management/v1/role")
    public BootstrapWire.Status configure(@RequestBody BootstrapWire.Configure configure) {
        return node.configure(configure);
    }

    @Operation(summary = "Register a session id on this member (recorded in the registry)")
    @ApiResponse(responseCode = "201", description = "registered on this member")
    @ApiResponse(responseCode = "204", description = "it was registered on this member already")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 502, reasons = {"registry-unreachable", "registry-refused"}, when = "the registry call under the request failed")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "no keys yet")
    @PutMapping("/management/v1/sessions/{session}")
    public ResponseEntity<Void> addSession(@PathVariable @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String session) {
        boolean added = node.registry().addSession(node.settings().serviceId(), session);
        return ResponseEntity.status(added ? HttpStatus.CREATED : HttpStatus.NO_CONTENT).build();
    }

    @Operation(summary = "Deregister a session id from this member")
    @ProblemAnswer(status = 404, reasons = {"unknown-instance", "unknown-session"})
    @ProblemAnswer(status = 502, reasons = {"registry-unreachable", "registry-refused"}, when = "the registry call under the request failed")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "no keys yet")
    @DeleteMapping("/management/v1/sessions/{session}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void removeSession(@PathVariable @Pattern(regexp = Ids.PATTERN, message = Ids.MESSAGE) String session) {
        try {
            node.registry().removeSession(node.settings().serviceId(), session);
        } catch (RegistryCallException e) {
            if (e.status() == HttpStatus.NOT_FOUND.value()) {
                // The registry's refusal is final, not the passing failure (502, Retry-After) its other refusals are here.
                throw new SpawnerException(HttpStatus.NOT_FOUND, "unknown-session", "member " + node.settings().serviceId()
                        + " serves no session '" + session + "'");
            }
            throw e;
        }
    }

    @Operation(summary = "CONNECT: attach an application to a session this member serves (application fail-over)")
    @ProblemAnswer(status = 404, reasons = "unknown-session")
    @ProblemAnswer(status = 502, reasons = {"registry-unreachable", "registry-refused"}, when = "the registry call under the request failed")
    @ProblemAnswer(status = 503, reasons = "not-ready")
    @PostMapping("/management/v1/connect")
    public Connected connect(@RequestBody @jakarta.validation.Valid Connect connect) {
        if (!node.registeredRunning()) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", "member " + node.settings().serviceId()
                    + " is not registered RUNNING yet (it is " + node.phase() + "); retry once it is");
        }
        if (!serves(connect.session())) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "unknown-session", "member " + node.settings().serviceId()
                    + " serves no session '" + connect.session() + "'");
        }
        ServiceInstance self = node.registered();
        return new Connected(self.id(), self.incarnation(), self.type(), self.endpoints());
    }

    private boolean serves(String session) {
        return node.registry().sessionMembers(session).instances().stream()
                .anyMatch(i -> i.id().equals(node.settings().serviceId()));
    }
}
