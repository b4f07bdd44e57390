package dev.fabric.spawner.role.agent;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.Ids;
import dev.fabric.core.task.TaskState;
import dev.fabric.spawner.web.SpawnerException;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/** The agent's HTTP API (docs/api.md, docs/roles.md "agent"); answers 503 until the member runs the agent role. */
@ProblemAnswer(status = 503, reasons = "agent-not-started", when = "the member runs another role")
@RestController
@Profile("member")
@RequestMapping(AgentRole.BASE_PATH)
public class AgentController {

    /** {@code GET /agent/v1/tasks}: the tasks in the agent's slots. */
    record Tasks(int slots, List<RunningTask> tasks) {}

    /** A task in a slot: which attempt, since when, its process, its time limit. */
    record RunningTask(String task, String pilot, String name, int attempt, Instant startedAt, Long pid, String timeLimit) {}

    /** The answer to a cancel: the task's state here when the cancel came. */
    record Canceled(String task, TaskState was) {}

    private final AgentRole role;

    public AgentController(AgentRole role) {
        this.role = role;
    }

    @GetMapping("/tasks")
    Tasks tasks() {
        Agent agent = role.agent();
        return new Tasks(agent.settings().cores(), agent.running().stream()
                .sorted(Comparator.comparing(Agent.Running::startedAt))
                .map(r -> new RunningTask(r.task().id(), r.task().pilot(), r.task().name(), r.attempt(), r.startedAt(),
                        r.run().pid().orElse(null), r.task().timeLimit()))
                .toList());
    }

    @ProblemAnswer(status = 404, reasons = "task-not-running")
    @PostMapping("/tasks/{id}/cancel")
    Canceled cancel(@PathVariable String id) {
        Agent agent = role.agent();
        if (!id.matches(Ids.PATTERN)) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "'" + id + "' is not a task id: " + Ids.MESSAGE);
        }
        TaskState was = agent.cancel(id, false).orElseThrow(() -> new SpawnerException(HttpStatus.NOT_FOUND, "task-not-running",
                "task " + id + " is not running or waiting for a slot on this agent; cancel it through its pilot "
                        + "(POST /pilots/v1/tasks/" + id + "/cancel), which reaches every agent"));
        return new Canceled(id, was);
    }
}
