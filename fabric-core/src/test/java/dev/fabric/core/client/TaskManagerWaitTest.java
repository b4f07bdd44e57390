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
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How a wait reads the finals feed: every read a long poll, the first too; never past the wait's own timeout; with
 * many tasks to go, at most once a gather time; and an id the manager does not know refused before any read.
 */
class TaskManagerWaitTest {

    private final FabricClient client = FabricClient.builder(URI.create("http://127.0.0.1:9"), FabricKeys.generate()).build();
    /** Nothing is sent: the feed is given to the wait. */
    private final TaskManager tasks = new TaskManager(client, "pilot-manager-1", "s-1");

    @AfterEach
    void close() {
        client.close();
    }

    private record Read(long after, Duration patience) {}

    /** A manager whose session holds every task asked about. */
    private static final TaskManager.Lookup KNOWS_ALL = new TaskManager.Lookup() {
        @Override
        public List<PilotWire.Task> sessionTasks() {
            return List.of(finalTask("t-1", 1));
        }

        @Override
        public PilotWire.Task task(String id) {
            return finalTask(id, 1);
        }
    };

    /** A manager that knows t-1 only, in session s-1, and other-session's in session s-2; it refuses the rest as GET /tasks/{id} does. */
    private final TaskManager.Lookup knowsT1 = new TaskManager.Lookup() {
        @Override
        public List<PilotWire.Task> sessionTasks() {
            return List.of(finalTask("t-1", 1));
        }

        @Override
        public PilotWire.Task task(String id) {
            if (id.equals("other-session")) {
                return new PilotWire.Task(id, "p-1", "s-2", null, TaskState.RUNNING, null, null, "a-1", 1, null, null, null, null, 0);
            }
            throw new MemberRefusedException("pilot-manager-1", 404, "unknown-task", "member pilot-manager-1 has no task " + id, null);
        }
    };

    @Test
    void aWaitForAnUnknownTaskIsRefusedAtOnceAsGetRefusesIt() {
        TaskManager.Feed feed = (after, wait) -> {
            throw new AssertionError("the wait read the feed: it waits for a task that does not exist");
        };

        assertThatThrownBy(() -> tasks.await(List.of("t-1", "t-typo"), Duration.ofMinutes(10), false, task -> { }, feed, knowsT1))
                .isInstanceOfSatisfying(MemberRefusedException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.reason()).isEqualTo("unknown-task");
                    assertThat(e).hasMessageContaining("t-typo");
                });
        assertThatThrownBy(() -> tasks.await(List.of("t-typo"), Duration.ofMinutes(10), true, task -> { }, feed, knowsT1))
                .isInstanceOf(MemberRefusedException.class);
    }

    @Test
    void aWaitForATaskOfAnotherSessionIsRefusedNamingIt() {
        assertThatThrownBy(() -> tasks.await(List.of("other-session"), Duration.ofMinutes(10), false, task -> { },
                (after, wait) -> {
                    throw new AssertionError("the wait read the feed: it waits for a task it will never see");
                }, knowsT1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("session s-2, not s-1");
    }

    @Test
    void tasksSubmittedHereAreNotLookedUp() throws InterruptedException {
        tasks.remember(new PilotWire.Submitted(List.of("t-9"), 0L));
        TaskManager.Lookup refusesEverything = new TaskManager.Lookup() {
            @Override
            public List<PilotWire.Task> sessionTasks() {
                throw new AssertionError("looked up");
            }

            @Override
            public PilotWire.Task task(String id) {
                throw new AssertionError("looked up");
            }
        };

        var done = tasks.await(List.of("t-9"), Duration.ofMinutes(1), false, task -> { },
                (after, wait) -> new PilotWire.Tasks(List.of(finalTask("t-9", 1)), 1), refusesEverything);

        assertThat(done.complete()).isTrue();
    }

    @Test
    void theFirstReadOfTheFeedIsALongPollNotAnExtraRequest() throws InterruptedException {
        tasks.remember(new PilotWire.Submitted(List.of("t-1"), 4L));
        List<Read> reads = new ArrayList<>();

        var done = tasks.await(List.of("t-1"), Duration.ofMinutes(1), true, task -> { }, (after, wait) -> {
            reads.add(new Read(after, wait));
            return new PilotWire.Tasks(List.of(finalTask("t-1", 5)), 5);
        }, KNOWS_ALL);

        assertThat(done.finished()).extracting(PilotWire.Task::id).containsExactly("t-1");
        assertThat(reads).containsExactly(new Read(4, TaskManager.POLL));
    }

    @Test
    void aReadWaitsNoLongerThanTheWaitHasLeft() throws InterruptedException {
        List<Read> reads = new ArrayList<>();

        var outcome = tasks.await(List.of("t-1"), Duration.ofMillis(300), false, task -> { }, (after, wait) -> {
            reads.add(new Read(after, wait));
            return new PilotWire.Tasks(List.of(), after);
        }, KNOWS_ALL);

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
        }, KNOWS_ALL);

        assertThat(done.complete()).isTrue();
        assertThat(reads).containsExactly(new Read(0, TaskManager.POLL), new Read(1, TaskManager.POLL));
    }

    @Test
    void aWaitWithManyTasksToGoGathersFinalsBetweenReadsAndReadsAtOnceForTheLastOnes() throws InterruptedException {
        int count = TaskManager.GATHER_ABOVE + 50;
        List<String> ids = IntStream.range(0, count).mapToObj(i -> "t-" + i).toList();
        tasks.remember(new PilotWire.Submitted(ids, 0L));
        List<Long> pauses = new ArrayList<>();
        List<Integer> pendingAtPause = new ArrayList<>();
        int[] served = {0};

        // One final a read: the wait pauses after each read while more than GATHER_ABOVE are still to go.
        var done = tasks.await(ids, Duration.ofMinutes(1), false, task -> { }, (after, wait) -> {
            String id = ids.get(served[0]++);
            return new PilotWire.Tasks(List.of(finalTask(id, served[0])), served[0]);
        }, KNOWS_ALL, nanos -> {
            pauses.add(nanos);
            pendingAtPause.add(count - served[0]);
        });

        assertThat(done.complete()).isTrue();
        assertThat(done.finished()).hasSize(count);
        // After each of the first 49 reads (150 - k > 100 to go); a read that itself took a GATHER (a stalled machine) needs no pause.
        int expected = count - TaskManager.GATHER_ABOVE - 1;
        assertThat(pauses).hasSizeBetween(expected / 2, expected)
                .allSatisfy(nanos -> assertThat(nanos).isPositive().isLessThanOrEqualTo(TaskManager.GATHER.toNanos()));
        assertThat(pendingAtPause).allSatisfy(pending -> assertThat(pending).isGreaterThan(TaskManager.GATHER_ABOVE));
    }

    @Test
    void aWaitForAnyOfManyTasksReadsAgainAtOnce() throws InterruptedException {
        List<String> ids = IntStream.range(0, TaskManager.GATHER_ABOVE * 3).mapToObj(i -> "t-" + i).toList();
        tasks.remember(new PilotWire.Submitted(ids, 0L));
        List<PilotWire.Tasks> pages = new ArrayList<>(List.of(new PilotWire.Tasks(List.of(), 0),
                new PilotWire.Tasks(List.of(finalTask("t-7", 1)), 1)));

        var done = tasks.await(ids, Duration.ofMinutes(1), true, task -> { }, (after, wait) -> pages.removeFirst(), KNOWS_ALL,
                nanos -> {
                    throw new AssertionError("a wait for any one task paused between reads");
                });

        assertThat(done.finished()).extracting(PilotWire.Task::id).containsExactly("t-7");
    }

    private static PilotWire.Task finalTask(String id, long sequence) {
        return new PilotWire.Task(id, "p-1", "s-1", null, TaskState.DONE, null, null, "a-1", 1, 0, Duration.ofMillis(3), null, null,
                sequence);
    }
}
