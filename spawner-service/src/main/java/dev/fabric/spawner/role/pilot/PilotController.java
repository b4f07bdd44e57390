package dev.fabric.spawner.role.pilot;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.FabricId;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskState;
import dev.fabric.spawner.web.SpawnerException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
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

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/** The pilot manager's HTTP API (docs/roles.md "pilot-manager"); 503 until the member runs the role. */
@ProblemAnswer(status = 503, reasons = "pilot-manager-not-started", when = "the member runs another role")
@RestController
@Profile("member")
@RequestMapping(PilotManagerRole.BASE_PATH)
public class PilotController {

    static final Duration MAX_WAIT = Duration.ofSeconds(30);

    private final PilotManagerRole role;

    public PilotController(PilotManagerRole role) {
        this.role = role;
    }

    @Operation(summary = "Place a pilot: journaled NEW, then its queue, pubsub and agents are spawned (LAUNCHING); ACTIVE once all are RUNNING")
    @ApiResponse(responseCode = "201", description = "the pilot, NEW; its members are spawned in the background")
    @ProblemAnswer(status = 400, reasons = "invalid-pilot")
    @ProblemAnswer(status = 404, reasons = "unknown-member")
    @ProblemAnswer(status = 409, reasons = "member-not-running")
    @ProblemAnswer(status = 503, reasons = "journal-unavailable")
    @PostMapping(path = "/pilots", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<PilotWire.Pilot> create(@RequestBody(required = false) PilotWire.PilotDescription description) {
        return ResponseEntity.status(HttpStatus.CREATED).body(role.manager().create(description));
    }

    @Operation(summary = "Every pilot of this manager")
    @GetMapping("/pilots")
    PilotWire.Pilots pilots() {
        return new PilotWire.Pilots(role.manager().list());
    }

    @Operation(summary = "One pilot")
    @ProblemAnswer(status = 404, reasons = "unknown-pilot")
    @GetMapping("/pilots/{id}")
    PilotWire.Pilot pilot(@PathVariable @FabricId String id) {
        return role.manager().pilot(id);
    }

    @Operation(summary = "Cancel a pilot: its agents, queue and pubsub stopped, its unfinished tasks CANCELED")
    @ProblemAnswer(status = 404, reasons = "unknown-pilot")
    @ProblemAnswer(status = 503, reasons = "journal-unavailable")
    @DeleteMapping("/pilots/{id}")
    PilotWire.Pilot cancel(@PathVariable @FabricId String id) {
        return role.manager().cancel(id);
    }

    @Operation(summary = "Submit tasks to a pilot (one or many); answers their ids")
    @ProblemAnswer(status = 400, reasons = "invalid-task")
    @ProblemAnswer(status = 404, reasons = "unknown-pilot")
    @ProblemAnswer(status = 409, reasons = {"pilot-ended", "task-exists"})
    @ProblemAnswer(status = 503, reasons = "journal-unavailable")
    @PostMapping(path = "/pilots/{id}/tasks", consumes = MediaType.APPLICATION_JSON_VALUE)
    PilotWire.Submitted submit(@PathVariable @FabricId String id, @RequestBody(required = false) PilotWire.Submission submission) {
        return role.manager().submit(id, submission);
    }

    @Operation(summary = "The tasks of a pilot, of a session and a state when given")
    @ProblemAnswer(status = 404, reasons = "unknown-pilot")
    @GetMapping("/pilots/{id}/tasks")
    PilotWire.Tasks tasks(@PathVariable @FabricId String id, @RequestParam(required = false) String state,
                          @RequestParam(required = false) String session) {
        return new PilotWire.Tasks(role.manager().tasks(id, session, state(state)), 0);
    }

    @Operation(summary = "The tasks of a session, over every pilot")
    @GetMapping("/tasks")
    PilotWire.Tasks sessionTasks(@RequestParam(required = false) String session, @RequestParam(required = false) String state) {
        return new PilotWire.Tasks(role.manager().tasks().list(null, session, state(state)), 0);
    }

    @Operation(summary = "The finals feed: tasks whose final state was recorded after sequence `after`, waiting up to `wait` for one")
    @GetMapping("/finals")
    PilotWire.Tasks finals(@RequestParam(defaultValue = "0") long after, @RequestParam(required = false) String session,
                           @RequestParam(required = false) String pilot, @RequestParam(defaultValue = "0s") String wait)
            throws InterruptedException {
        Duration patience = PilotSettings.durationOf(wait).filter(d -> !d.isNegative() && d.compareTo(MAX_WAIT) <= 0)
                .orElseThrow(() -> new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "wait must be a duration from 0s to "
                        + MAX_WAIT.toSeconds() + "s, not '" + wait + "'"));
        if (after < 0) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "after must be 0 or more, not " + after);
        }
        return role.manager().tasks().finalsAfter(after, session, pilot, patience);
    }

    @Operation(summary = "One task")
    @ProblemAnswer(status = 404, reasons = "unknown-task")
    @GetMapping("/tasks/{id}")
    PilotWire.Task task(@PathVariable @FabricId String id) {
        return role.manager().task(id);
    }

    @Operation(summary = "Cancel a task: at once when not yet queued, else through the pilot's control topic")
    @ApiResponse(responseCode = "202", description = "the task; a queued or running one is canceled through its pilot")
    @ProblemAnswer(status = 404, reasons = "unknown-task")
    @ProblemAnswer(status = 409, reasons = "task-final")
    @ProblemAnswer(status = 503, reasons = "journal-unavailable")
    @PostMapping("/tasks/{id}/cancel")
    ResponseEntity<PilotWire.Task> cancelTask(@PathVariable @FabricId String id) {
        return ResponseEntity.accepted().body(role.manager().cancelTask(id));
    }

    @Operation(summary = "What a finished task printed; 409 task-not-run for one that never ran")
    @ProblemAnswer(status = 404, reasons = "unknown-task")
    @ProblemAnswer(status = 409, reasons = {"task-not-run", "task-running"})
    @GetMapping("/tasks/{id}/output")
    PilotWire.Output output(@PathVariable @FabricId String id) {
        return role.manager().output(id);
    }

    private static TaskState state(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return TaskState.valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "state must be one of "
                    + Arrays.toString(TaskState.values()) + ", not '" + value + "'");
        }
    }
}
