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
                "\r[#######.......................] 1/4 ended: done 1, failed 0, 1.0 tasks/s, 3s left\u001b[K"
                        + "\r[###############...............] 2/4 ended: done 1, failed 1, 1.0 tasks/s, 2s left\u001b[K"
                        + System.lineSeparator());
    }

    @Test
    void tasksThatEndedBeforeTheWaitCountAsEndedButNotTowardTheRate() {
        StringWriter text = new StringWriter();
        Progress progress = new Progress(new PrintWriter(text), false, clock, 4);
        Instant before = now.get().minus(Duration.ofMinutes(5));
        progress.ended(ended("t-1", before));
        progress.ended(ended("t-2", before));
        now.set(now.get().plus(Duration.ofSeconds(2)));
        progress.ended(ended("t-3", now.get()));
        progress.ended(ended("t-4", now.get()));
        progress.finish();
        // Before: 5983.0 tasks/s for tasks that had ended long before, and a time left of nothing.
        assertThat(text.toString().lines()).containsExactly(
                "1/4 ended: done 1, failed 0, 0.0 tasks/s, ? left",
                "3/4 ended: done 3, failed 0, 0.5 tasks/s, 2s left",
                "4/4 ended: done 4, failed 0, 1.0 tasks/s, 0s left");
    }

    static PilotWire.Task ended(String id, Instant at) {
        return new PilotWire.Task(id, "pilot-1", "s", null, TaskState.DONE, null, null, null, 1, 0, null, null, at, 1);
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
