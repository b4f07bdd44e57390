package dev.fabric.spawner.role.pilot;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One line of the pilot manager's journal ({@link PilotJournal}): what it must know again after a
 * restart under its id. Replayed in order, the records rebuild every pilot and every task.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
        @JsonSubTypes.Type(value = PilotRecord.PilotSaved.class, name = "pilot"),
        @JsonSubTypes.Type(value = PilotRecord.TasksAccepted.class, name = "accepted"),
        @JsonSubTypes.Type(value = PilotRecord.TasksQueued.class, name = "queued"),
        @JsonSubTypes.Type(value = PilotRecord.TaskEnded.class, name = "ended"),
        @JsonSubTypes.Type(value = PilotRecord.Compacted.class, name = "compacted")})
sealed interface PilotRecord {

    /** A pilot as it stands after a change of state or of its members. */
    record PilotSaved(PilotWire.Pilot pilot) implements PilotRecord {}

    /** Tasks accepted for a pilot (NEW), with the session that submitted them. */
    record TasksAccepted(String pilot, String session, Instant at, List<TaskDescription> tasks) implements PilotRecord {}

    /**
     * Tasks now in the pilot's queue (QUEUED), with the ids the queue gave their messages, in the same
     * order (for a cancel that withdraws one; absent in journals written before they were kept).
     */
    record TasksQueued(String pilot, List<String> ids, List<String> messages) implements PilotRecord {}

    /**
     * A task's final state, recorded once: the first final event wins. {@code next} is the offset of
     * the events topic to read from after this event (absent for a final state the manager gave itself,
     * such as a cancel before the task was queued).
     */
    record TaskEnded(TaskEvent event, long sequence, Long next) implements PilotRecord {}

    /**
     * The first line of a compacted journal: what the dropped records carried that the retained ones
     * do not. {@code lastSequence} is the highest final-state sequence given (so none is given twice,
     * even when its task was dropped); {@code eventOffsets} is, per retained pilot, the offset of its
     * events topic to read from.
     */
    record Compacted(Instant at, long lastSequence, Map<String, Long> eventOffsets) implements PilotRecord {}
}
