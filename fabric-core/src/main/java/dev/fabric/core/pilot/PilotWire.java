package dev.fabric.core.pilot;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.fabric.core.registry.Connectivity;
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
     * host the manager reaches over SSH ({@code host}, or several: {@code hosts}, the agents spread
     * over them in turn), or, with neither, as the manager's own children. Agents on hosts that
     * reach the fabric only through a bridge (a compute node behind its head node) name that
     * bridge's relay URL in {@code via} and, when their spawner cannot dial them either, the
     * {@code connectivity} that sends the bootstrap through it (docs/tasks.md, "Running tasks on
     * other hosts").
     *
     * @param member       the member that spawns the agents
     * @param host         the SSH host of the manager's spawner settings the agents start on
     * @param hosts        several such hosts: agent {@code i} starts on {@code hosts[i % hosts.size()]}
     * @param via          the relay URL ({@code http://host:port}) of the bridge the agents are reached through and reach
     *                     the fabric through; absent: directly
     * @param connectivity the agents' bootstrap mode (their spawn's {@code connectivity}); absent: DIRECT
     */
    public record Where(String member, String host, List<String> hosts, String via, Connectivity connectivity) {

        /** The manager itself. */
        public static final Where MANAGER = new Where(null, null, null, null, null);

        /** On the member {@code id}: it spawns them. */
        public static Where member(String id) {
            return new Where(id, null, null, null, null);
        }

        /** On the SSH host {@code name} of the manager's spawner settings. */
        public static Where host(String name) {
            return new Where(null, name, null, null, null);
        }

        /** On the SSH hosts {@code names} of the manager's spawner settings, the agents spread over them in turn. */
        public static Where hosts(List<String> names) {
            return new Where(null, null, List.copyOf(names), null, null);
        }

        /** This placement, the agents reached through the bridge at {@code relayUrl} and bootstrapped in {@code mode}. */
        public Where through(String relayUrl, Connectivity mode) {
            return new Where(member, host, hosts, relayUrl, mode);
        }

        /** Where agent number {@code slot} (from 0) of the pilot starts: one host of {@code hosts}, in turn. */
        public Where forAgent(int slot) {
            String chosen = hosts == null || hosts.isEmpty() ? host : hosts.get(Math.floorMod(slot, hosts.size()));
            return new Where(member, chosen, null, via, connectivity);
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

    /**
     * The ids of submitted tasks, in the order of the submission.
     *
     * @param finalsAfter the finals feed's sequence when the manager accepted them: their final states
     *                    come after it ({@code GET /finals?after=}), so a wait for them reads the feed
     *                    from there, not the session's every earlier final. 0 when the submission named
     *                    a task the manager had already (a retry), which may have ended before; absent
     *                    (null) from a manager older than this field, read as 0
     */
    public record Submitted(List<String> ids, Long finalsAfter) {}

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
