package dev.fabric.registry.session;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.FabricId;
import dev.fabric.core.registry.InstanceList;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;

/** Register and deregister session ids on instances; find every instance of a session. */
@RestController
@Validated
public class SessionController {

    private final SessionService sessions;

    public SessionController(SessionService sessions) {
        this.sessions = sessions;
    }

    @Operation(summary = "Register a session id on an instance (idempotent)")
    @ApiResponse(responseCode = "201", description = "registered on the instance")
    @ApiResponse(responseCode = "204", description = "it was registered on the instance already")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @PutMapping("/api/v1/instances/{id}/sessions/{session}")
    public ResponseEntity<Void> add(@PathVariable @FabricId String id, @PathVariable @FabricId String session) {
        return sessions.add(id, session) ? ResponseEntity.status(HttpStatus.CREATED).build() : ResponseEntity.noContent().build();
    }

    @Operation(summary = "Deregister a session id from an instance")
    @ProblemAnswer(status = 404, reasons = {"unknown-instance", "unknown-session"})
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @DeleteMapping("/api/v1/instances/{id}/sessions/{session}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void remove(@PathVariable @FabricId String id, @PathVariable @FabricId String session) {
        sessions.remove(id, session);
    }

    @Operation(summary = "The session ids registered on an instance")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 503, reasons = "database-unavailable", when = "the database does not answer")
    @GetMapping("/api/v1/instances/{id}/sessions")
    public List<String> sessionsOf(@PathVariable @FabricId String id) {
        return sessions.sessionsOf(id);
    }

    @Operation(summary = "Every instance serving a session, and the revision to watch from")
    @ProblemAnswer(status = 503, reasons = "database-unavailable", when = "the database does not answer")
    @GetMapping("/api/v1/sessions/{session}")
    public InstanceList members(@PathVariable @FabricId String session) {
        return sessions.members(session);
    }
}
