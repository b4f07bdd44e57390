package dev.fabric.cli.commands.task;

import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code fabric task wait}'s progress: a bar redrawn in place on a terminal, plain lines at most every second elsewhere. */
class ProgressTest {

    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-04T20:00:00Z"));
    final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    static PilotWire.Task task(TaskState state) {
        return new PilotWire.Task("t-1", "pilot-1", "s", null, state, null, null, null, 1, 0, null, null, null, 1);
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlaceWithCountsRateAndTimeLeft() {
        StringWriter text = new StringWriter();
        Progress progress = new Progress(new PrintWriter(text), true, clock, 4);
        now.set(now.get().plus(Duration.ofSeconds(1)));
        progress.ended(task(TaskState.DONE));
        now.set(now.get().plus(Duration.ofSeconds(1)));
        progress.ended(task(TaskState.FAILED));
        progress.finish();
        assertThat(text.toString()).isEqualTo(
                "\r[#######.......................] 1/4 ended: done 1, failed 0, 1.0 tasks/s, 3s left"
                        + "\r[###############...............] 2/4 ended: done 1, failed 1, 1.0 tasks/s, 2s left" + System.lineSeparator());
    }

    @Test
    void elsewhereAPlainLineAtMostEverySecondAndOneAtTheEnd() {
        StringWriter text = new StringWriter();
        Progress progress = new Progress(new PrintWriter(text), false, clock, 3);
        now.set(now.get().plus(Duration.ofSeconds(2)));
        progress.ended(task(TaskState.DONE));
        progress.ended(task(TaskState.CANCELED));
        progress.ended(task(TaskState.DONE));
        progress.finish();
        assertThat(text.toString().lines()).containsExactly(
                "1/3 ended: done 1, failed 0, 0.5 tasks/s, 4s left",
                "3/3 ended: done 2, failed 1, 1.5 tasks/s, 0s left");
    }
}
