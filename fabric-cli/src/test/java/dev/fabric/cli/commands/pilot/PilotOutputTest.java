package dev.fabric.cli.commands.pilot;

import dev.fabric.cli.Cli;
import dev.fabric.core.pilot.PilotState;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@code fabric pilot list} prints: a pilot that ended shows when it ended, one that runs when its runtime is over. */
class PilotOutputTest {

    private static final Instant CREATED = Instant.parse("2026-12-04T21:00:00Z");
    private static final Instant ACTIVE = Instant.parse("2026-12-04T21:00:30Z");
    /** The runtime limit of an hour, from ACTIVE. */
    private static final Instant ENDS = Instant.parse("2026-12-04T22:00:30Z");

    @TempDir
    Path home;

    static PilotWire.Pilot pilot(String id, PilotState state, String reason, Instant activeAt, Instant endsAt, Instant endedAt,
                                 Map<TaskState, Long> tasks) {
        return new PilotWire.Pilot(id, state, reason, new PilotWire.PilotDescription(2, 1, null, "1h", "rerun"),
                List.of("agent-1", "agent-2"), "queue-1", "pubsub-1", "tasks." + id, "control." + id, CREATED, activeAt, endsAt, endedAt,
                List.of(), tasks);
    }

    @Test
    void anEndedPilotShowsWhenItEndedAndARunningOneWhenItsRuntimeIsOver() {
        List<PilotWire.Pilot> pilots = List.of(
                pilot("pilot-00000001", PilotState.ACTIVE, null, ACTIVE, ENDS, null, Map.of(TaskState.DONE, 3L, TaskState.RUNNING, 1L)),
                pilot("pilot-00000002", PilotState.CANCELED, "canceled on request", ACTIVE, ENDS, Instant.parse("2026-12-04T21:10:07Z"),
                        Map.of(TaskState.DONE, 2L, TaskState.CANCELED, 1L)),
                pilot("pilot-00000003", PilotState.FAILED, "launch timeout", null, null, Instant.parse("2026-12-04T21:05:00Z"), Map.of()),
                pilot("pilot-00000004", PilotState.DONE, "its runtime of 1h is over", ACTIVE, ENDS, Instant.parse("2026-12-04T22:00:31Z"),
                        Map.of()),
                pilot("pilot-00000005", PilotState.LAUNCHING, null, null, null, null, Map.of()));

        assertThat(PilotCommand.ListPilots.table(pilots)).isEqualTo("""
                ID              STATE      AGENTS  CORES  TASKS  ENDS/ENDED            REASON
                pilot-00000001  ACTIVE     2       1      3/4    2026-12-04T22:00:30Z  -
                pilot-00000002  CANCELED   2       1      3/3    2026-12-04T21:10:07Z  canceled on request
                pilot-00000003  FAILED     2       1      0/0    2026-12-04T21:05:00Z  launch timeout
                pilot-00000004  DONE       2       1      0/0    2026-12-04T22:00:31Z  its runtime of 1h is over
                pilot-00000005  LAUNCHING  2       1      0/0    -                     -
                """);
    }

    @Test
    void helpSaysWhatTheEndColumnShows() {
        String help = Cli.withHome(home).run("pilot", "list", "--help").out().replaceAll("\\s+", " ");
        assertThat(help).contains("ENDS/ENDED: for a pilot that ended (DONE, FAILED or CANCELED), when it ended; for one not ended yet,"
                + " when its runtime is over");
    }
}
