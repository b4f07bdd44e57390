package dev.fabric.core.pilot;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskState;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON of a pilot manager's API ({@code /pilots/v1}, docs/roles.md "pilot-manager"): the one
 * definition the member writes and the client and CLI read.
 */
public final class PilotWire {

    private PilotWire() {
    }

    /**
     * Where a pilot's agents start: on a member ({@code member}, through its management port), on a
     * host the manager's own spawner reaches over SSH ({@code host}), or, with neither, as the
     * manager's own children.
     */
    public record Where(String member, String host) {

        /** The manager itself. */
        public static final Where MANAGER = new Where(null, null);

        /** On the member {@code id}: it spawns them. */
        public static Where member(String id) {
            return new Where(id, null);
        }

        /** On the SSH host {@code name} of the manager's spawner settings. */
        public static Where host(String name) {
            return new Where(null, name);
        }
    }

    /**
     * {@code POST /pilots/v1/pilots}.
     *
     * @param agents      how many agents (1 to 64)
     * @param cores       slots per agent (1 to 256; default 1)
     * @param where       where the agents start; absent: the manager spawns them itself
     * @param runtime     how long the pilot lives (Spring Boot duration style, e.g. {@code 1h}); absent: until canceled
     * @param rerunPolicy what an agent restarted under its id does with the tasks it was running: {@code rerun}
     *                    (default) or {@code fail}
     */
    public record PilotDescription(Integer agents, Integer cores, Where where, String runtime, String rerunPolicy) {}

    /** A pilot as its manager knows it. {@code reason} says why it FAILED or ended; {@code tasks} counts its tasks by state. */
    public record Pilot(String id, PilotState state, String reason, PilotDescription description, List<String> agents,
                        String queue, String pubsub, String topic, String control, Instant createdAt, Instant activeAt,
                        Instant endsAt, Instant endedAt, List<Replacement> replaced, Map<TaskState, Long> tasks) {}

    /** An agent that was LOST and the one that replaced it. */
    public record Replacement(String lost, String replacement, Instant at) {}

    /** {@code {"pilots": [...]}}. */
    public record Pilots(List<Pilot> pilots) {}

    /**
     * {@code POST /pilots/v1/pilots/{id}/tasks}: tasks for a pilot. A task proposing an id the pilot
     * already has is not submitted again (its id is answered as it stands): bulk submissions can be retried.
     *
     * @param session the application's session, recorded with each task so a reconnected application finds them
     */
    public record Submission(String session, List<TaskDescription> tasks) {}

    /** The ids of submitted tasks, in the order of the submission. */
    public record Submitted(List<String> ids) {}

    /**
     * A task as the pilot manager records it, without its output ({@code GET /pilots/v1/tasks/{id}/output}).
     *
     * @param reason   why it FAILED or was CANCELED ({@code TaskEvent}'s reasons, or the pilot's end: {@code pilot-ended},
     *                 {@code pilot-canceled}, {@code pilot-failed})
     * @param detail   what went wrong, for people
     * @param sequence the order in which final states were recorded (0 while not final): {@code after} of the finals feed
     */
    public record Task(String id, String pilot, String session, String name, TaskState state, String reason, String detail, String agent,
                       int attempt, Integer exitStatus, Duration duration, Instant submittedAt, Instant finishedAt, long sequence) {

        /** Whether the task has reached its final state (not a field of the JSON: the state says it). */
        @JsonIgnore
        public boolean isFinal() {
            return state != null && state.isFinal();
        }
    }

    /** {@code {"tasks": [...]}}; for the finals feed, {@code next} is the {@code after} of the next request. */
    public record Tasks(List<Task> tasks, long next) {}

    /** What a finished task printed, bounded by its agent's output limit. */
    public record Output(String id, TaskState state, Integer exitStatus, String reason, String stdout, String stderr,
                        boolean stdoutTruncated, boolean stderrTruncated) {}
}
