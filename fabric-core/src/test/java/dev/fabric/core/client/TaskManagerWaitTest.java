package dev.fabric.core.client;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How a wait reads the finals feed: every read a long poll, the first too; never past the wait's own timeout. */
class TaskManagerWaitTest {

    private final FabricClient client = FabricClient.builder(URI.create("http://127.0.0.1:9"), FabricKeys.generate()).build();
    /** Nothing is sent: the feed is given to the wait. */
    private final TaskManager tasks = new TaskManager(client, "pilot-manager-1", "s-1");

    @AfterEach
    void close() {
        client.close();
    }

    private record Read(long after, Duration patience) {}

    @Test
    void theFirstReadOfTheFeedIsALongPollNotAnExtraRequest() throws InterruptedException {
        tasks.remember(new PilotWire.Submitted(List.of("t-1"), 4L));
        List<Read> reads = new ArrayList<>();

        var done = tasks.await(List.of("t-1"), Duration.ofMinutes(1), true, task -> { }, (after, wait) -> {
            reads.add(new Read(after, wait));
            return new PilotWire.Tasks(List.of(finalTask("t-1", 5)), 5);
        });

        assertThat(done.finished()).extracting(PilotWire.Task::id).containsExactly("t-1");
        assertThat(reads).containsExactly(new Read(4, TaskManager.POLL));
    }

    @Test
    void aReadWaitsNoLongerThanTheWaitHasLeft() throws InterruptedException {
        List<Read> reads = new ArrayList<>();

        var outcome = tasks.await(List.of("t-1"), Duration.ofMillis(300), false, task -> { }, (after, wait) -> {
            reads.add(new Read(after, wait));
            return new PilotWire.Tasks(List.of(), after);
        });

        assertThat(outcome.pending()).containsExactly("t-1");
        assertThat(reads.getFirst().patience()).isEqualTo(Duration.ofMillis(300));
        assertThat(reads).allSatisfy(read -> assertThat(read.patience()).isBetween(Duration.ZERO, Duration.ofMillis(300)));
    }

    @Test
    void finalsOfOtherTasksAreReadPastUntilTheAwaitedOneEnds() throws InterruptedException {
        List<Read> reads = new ArrayList<>();
        List<PilotWire.Tasks> pages = new ArrayList<>(List.of(new PilotWire.Tasks(List.of(finalTask("other", 1)), 1),
                new PilotWire.Tasks(List.of(finalTask("t-1", 2)), 2)));

        var done = tasks.await(List.of("t-1"), Duration.ofMinutes(1), false, task -> { }, (after, wait) -> {
            reads.add(new Read(after, wait));
            return pages.removeFirst();
        });

        assertThat(done.complete()).isTrue();
        assertThat(reads).containsExactly(new Read(0, TaskManager.POLL), new Read(1, TaskManager.POLL));
    }

    private static PilotWire.Task finalTask(String id, long sequence) {
        return new PilotWire.Task(id, "p-1", "s-1", null, TaskState.DONE, null, null, "a-1", 1, 0, Duration.ofMillis(3), null, null,
                sequence);
    }
}
