package dev.fabric.core.client;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.pilot.PilotWire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where a wait reads the finals feed from: the lowest position the manager gave for the tasks waited
 * for when it accepted them, the feed's start for any task it gave none for.
 */
class TaskManagerFeedTest {

    private final FabricClient client = FabricClient.builder(URI.create("http://127.0.0.1:9"), FabricKeys.generate()).build();
    /** Nothing is sent: the manager's answers are given to it as submit would. */
    private final TaskManager tasks = new TaskManager(client, "pilot-manager-1", "s-1");

    @AfterEach
    void close() {
        client.close();
    }

    @Test
    void aWaitForTasksSubmittedHereStartsWhereTheFeedStoodWhenTheyWereAccepted() {
        tasks.remember(new PilotWire.Submitted(List.of("a", "b"), 5L));
        tasks.remember(new PilotWire.Submitted(List.of("c"), 9L));

        assertThat(tasks.feedStart(List.of("c"))).isEqualTo(9);
        assertThat(tasks.feedStart(List.of("c", "a"))).isEqualTo(5);
    }

    @Test
    void aTaskWithoutAPositionReadsTheFeedFromItsStart() {
        tasks.remember(new PilotWire.Submitted(List.of("c"), 9L));
        // A manager older than the field, and a retried submission (the manager answers 0).
        tasks.remember(new PilotWire.Submitted(List.of("old"), null));
        tasks.remember(new PilotWire.Submitted(List.of("retried"), 0L));

        assertThat(tasks.feedStart(List.of("c", "listed-elsewhere"))).isZero();
        assertThat(tasks.feedStart(List.of("c", "old"))).isZero();
        assertThat(tasks.feedStart(List.of("retried"))).isZero();
        assertThat(tasks.feedStart(List.of())).isZero();
    }

    @Test
    void onlyTheLatestSubmittedTasksAreRemembered() {
        tasks.remember(new PilotWire.Submitted(List.of("first"), 3L));
        tasks.remember(new PilotWire.Submitted(IntStream.range(0, TaskManager.REMEMBERED).mapToObj(i -> "t-" + i).toList(), 7L));

        assertThat(tasks.feedStart(List.of("t-0", "t-" + (TaskManager.REMEMBERED - 1)))).isEqualTo(7);
        assertThat(tasks.feedStart(List.of("first"))).as("forgotten: from the start").isZero();
    }
}
