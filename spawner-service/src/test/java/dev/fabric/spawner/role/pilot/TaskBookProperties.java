package dev.fabric.spawner.role.pilot;

import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whatever a pilot's tasks go through (submitted, queued, running, ended, the pilot forgotten), the
 * book's fresh tasks of each pilot, what its enqueuer takes, are exactly its NEW tasks in submission
 * order, as a reading of every task would find them.
 */
class TaskBookProperties {

    static final List<String> PILOTS = List.of("pilot-a", "pilot-b");
    static final Instant AT = Instant.parse("2026-12-08T00:00:00Z");

    sealed interface Op {
        /** Submits tasks {@code first} to {@code first + count - 1} (ids seen before are duplicates, as a retried submission). */
        record Submit(int pilot, int first, int count) implements Op {}

        record Queue(int pick) implements Op {}

        record Run(int pick) implements Op {}

        record End(int pick, TaskState state) implements Op {}

        record Forget(int pilot) implements Op {}
    }

    @Provide
    Arbitrary<List<Op>> runs() {
        Arbitrary<Integer> pilot = Arbitraries.integers().between(0, PILOTS.size() - 1);
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 60);
        Arbitrary<Op> op = Arbitraries.<Op>frequencyOf(
                Tuple.of(4, Combinators.combine(pilot, Arbitraries.integers().between(0, 50),
                        Arbitraries.integers().between(1, 6)).as(Op.Submit::new)),
                Tuple.of(4, pick.map(Op.Queue::new)),
                Tuple.of(3, pick.map(Op.Run::new)),
                Tuple.of(3, Combinators.combine(pick, Arbitraries.of(TaskState.DONE, TaskState.FAILED, TaskState.CANCELED))
                        .as(Op.End::new)),
                Tuple.of(1, pilot.map(Op.Forget::new)));
        return op.list().ofMinSize(5).ofMaxSize(60);
    }

    @Property(tries = 300)
    void aPilotsFreshTasksAreItsNewTasksInSubmissionOrder(@ForAll("runs") List<Op> run) {
        TaskBook book = new TaskBook();
        long sequence = 0;
        for (Op op : run) {
            switch (op) {
                case Op.Submit submit -> {
                    String pilot = PILOTS.get(submit.pilot());
                    List<TaskDescription> tasks = IntStream.range(submit.first(), submit.first() + submit.count())
                            .mapToObj(i -> TaskDescription.of("true").withId("t-" + pilot + "-" + i).withPilot(pilot)).toList();
                    book.accept("session", AT, book.unknown(tasks));
                }
                case Op.Queue queue -> pick(book, queue.pick()).ifPresent(id -> book.queued(List.of(id), List.of("m-" + id)));
                case Op.Run running -> pick(book, running.pick()).ifPresent(id -> book.running(
                        TaskEvent.of(id, pilotOf(id), TaskState.RUNNING, "agent-1", 1, AT, null, null)));
                case Op.End end -> {
                    Optional<String> picked = pick(book, end.pick());
                    if (picked.isPresent()) {
                        book.end(TaskEvent.of(picked.get(), pilotOf(picked.get()), end.state(), "agent-1", 1, AT, null, null), ++sequence);
                    }
                }
                case Op.Forget forget -> book.forget(PILOTS.get(forget.pilot()));
            }
            for (String pilot : PILOTS) {
                assertThat(book.fresh(pilot)).as("fresh tasks of %s after %s", pilot, op)
                        .containsExactlyElementsOf(book.inState(pilot, TaskState.NEW));
                assertThat(book.hasFresh(pilot)).isEqualTo(!book.inState(pilot, TaskState.NEW).isEmpty());
            }
        }
    }

    @Example
    void aQueuedTaskLeavesTheFreshOnesAndALaterSubmissionComesAfterTheOthers() {
        TaskBook book = new TaskBook();
        List<TaskDescription> first = List.of(task("t-1"), task("t-2"), task("t-3"));
        book.accept("session", AT, first);
        book.queued(List.of("t-2"), List.of("m-2"));
        book.accept("session", AT, List.of(task("t-4")));

        assertThat(book.fresh("pilot-a")).extracting(TaskDescription::id).containsExactly("t-1", "t-3", "t-4");
        assertThat(book.fresh("pilot-b")).isEmpty();
        assertThat(book.hasFresh("pilot-b")).isFalse();
    }

    private static TaskDescription task(String id) {
        return TaskDescription.of("true").withId(id).withPilot("pilot-a");
    }

    private static String pilotOf(String id) {
        return id.startsWith("t-pilot-a") ? "pilot-a" : "pilot-b";
    }

    /** One of the book's tasks, by a number of the run: any of them, in whatever state. */
    private static Optional<String> pick(TaskBook book, int pick) {
        List<TaskBook.Entry> entries = book.entries();
        return entries.isEmpty() ? Optional.empty() : Optional.of(entries.get(pick % entries.size()).description.id());
    }
}
