package dev.fabric.core.task;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Duration;
import java.time.Instant;

/**
 * One state change of a task, as an agent publishes it on the pilot's events topic
 * ({@code tasks.<pilot>}) and the pilot manager records it. Delivery is at least once: the first
 * final event of a task wins, later ones are duplicates.
 *
 * <p>The result fields ({@code exitStatus}, {@code duration}, {@code stdout}, {@code stderr} and
 * their truncation flags) are present on final states only, and only for a task that ran;
 * {@code reason} says why a task FAILED or was CANCELED.
 *
 * @param task            the task's id
 * @param pilot           the pilot it runs on
 * @param state           the state it moved to
 * @param agent           the member id of the agent that publishes this
 * @param attempt         1 for the first run, one more for each run after an agent was lost
 * @param at              when the state changed
 * @param exitStatus      the process's exit status (128 + signal when a signal ended it)
 * @param reason          one of the {@code REASON_*} constants, or absent
 * @param detail          what went wrong, for people: why a description is invalid or a process did not start
 * @param duration        how long the process ran (ISO-8601 on the wire, e.g. {@code PT0.012S})
 * @param stdout          the process's standard output as UTF-8 text, up to the agent's output limit
 * @param stderr          its standard error, likewise
 * @param stdoutTruncated whether standard output went past the limit and only its beginning is here
 * @param stderrTruncated likewise for standard error
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskEvent(String task, String pilot, TaskState state, String agent, int attempt, Instant at,
                        Integer exitStatus, String reason, String detail, Duration duration, String stdout, String stderr,
                        Boolean stdoutTruncated, Boolean stderrTruncated) {

    /** FAILED: the process exited with a status other than 0. */
    public static final String REASON_EXIT_STATUS = "exit-status";
    /** FAILED: the process ran past its time limit and was killed, with every process it started. */
    public static final String REASON_TIME_LIMIT = "time-limit";
    /** FAILED: the description cannot run ({@link TaskDescription#invalidity()}, said in {@code detail}). */
    public static final String REASON_INVALID_TASK = TaskDescription.INVALID;
    /** FAILED: the agent running it was lost and its {@code rerun-policy} is {@code fail}. */
    public static final String REASON_AGENT_LOST = "agent-lost";
    /** FAILED: the process could not be started (no such program, not executable, a working directory that cannot be made). */
    public static final String REASON_START_FAILED = "start-failed";
    /** CANCELED: canceled while waiting in the queue; it never ran. */
    public static final String REASON_CANCELED_QUEUED = "canceled-queued";
    /** CANCELED: canceled while running; its processes were killed. */
    public static final String REASON_CANCELED_RUNNING = "canceled-running";

    /** The event of a state change without a result: RUNNING, or a final state of a task that never ran. */
    public static TaskEvent of(String task, String pilot, TaskState state, String agent, int attempt, Instant at,
                               String reason, String detail) {
        return new TaskEvent(task, pilot, state, agent, attempt, at, null, reason, detail, null, null, null, null, null);
    }

    /** Whether this event ends its task (not a field of the JSON: the state says it). */
    @JsonIgnore
    public boolean isFinal() {
        return state.isFinal();
    }
}
