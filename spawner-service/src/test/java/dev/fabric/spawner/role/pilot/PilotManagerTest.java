package dev.fabric.spawner.role.pilot;

import dev.fabric.core.client.RequestBatches;
import dev.fabric.core.pilot.PilotState;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.client.HttpClientErrorException;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The pilot manager's decisions over a fabric in memory: launch, tasks, final states once, journal replay, agent replacement. */
class PilotManagerTest {

    static final JsonMapper JSON = JsonMapper.builder().build();
    static final PilotSettings SETTINGS = new PilotSettings(Duration.ofMinutes(5), Duration.ofHours(1), 2, 1000);

    @TempDir
    Path dir;

    final LoopbackFabric fabric = new LoopbackFabric();
    PilotManager manager;

    PilotManager open(boolean restart) throws Exception {
        return open(restart, SETTINGS, Clock.systemUTC());
    }

    PilotManager open(boolean restart, PilotSettings settings, Clock clock) throws Exception {
        PilotManager opened = PilotManager.open("pilot-manager-1", dir, restart, fabric, settings, clock, JSON);
        opened.start();
        return opened;
    }

    /** Waits up to 20 s, looking every 10 ms: the manager's loops answer within milliseconds here. */
    static org.awaitility.core.ConditionFactory soon() {
        return await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(20));
    }

    @AfterEach
    void close() throws Exception {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    void closingTheManagerClosesItsFabric() throws Exception {
        PilotManager opened = open(false);
        assertThat(fabric.closed).isFalse();

        opened.close();

        assertThat(fabric.closed).as("the manager's fabric, and with it its client's connections and threads").isTrue();
    }

    @Test
    void aCloseWhileABatchIsBeingQueuedWaitsForItSoTheJournalSaysQueuedAndARestartQueuesNothingTwice() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        // The queue's answer to a request in flight comes after the close interrupted the enqueuer: the queue has the batch.
        fabric.duringEnqueue = () -> {
            entered.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
            awaitUninterruptibly(answer);
            Thread.currentThread().interrupt();
        };
        List<String> ids = manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(task("true"), task("echo", "hi")))).ids();
        soon().until(() -> entered.getCount() == 0);
        PilotManager closing = manager;
        Thread closer = Thread.ofVirtual().start(() -> {
            try {
                closing.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        soon().until(() -> interrupted.getCount() == 0);
        // The close is done, or waits for something (the enqueuer): either way the answer comes now.
        soon().until(() -> Set.of(Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.TERMINATED).contains(closer.getState()));
        answer.countDown();
        soon().until(() -> !closer.isAlive());
        assertThat(fabric.queued(pilot.queue())).hasSize(2);
        fabric.duringEnqueue = () -> { };

        manager = open(true);
        soon().until(() -> ids.stream().allMatch(id -> manager.task(id).state() == TaskState.QUEUED));
        assertThat(fabric.queued(pilot.queue())).as("each task in the queue once: the batch the queue took was journaled QUEUED")
                .hasSize(2);
    }

    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (latch.getCount() > 0) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static TaskDescription task(String... command) {
        return new TaskDescription(null, null, List.of(command), Map.of(), null, null, null);
    }

    static TaskEvent event(String task, String pilot, TaskState state, Integer exit, String stdout) {
        return new TaskEvent(task, pilot, state, "agent-3", 1, Instant.now(), exit, state == TaskState.FAILED ? "exit-status" : null, null,
                Duration.ofMillis(5), stdout, "", false, false);
    }

    PilotWire.Pilot activePilot(int agents) {
        return activePilot(agents, "1h");
    }

    PilotWire.Pilot activePilot(int agents, String runtime) {
        PilotWire.Pilot pilot = manager.create(new PilotWire.PilotDescription(agents, 2, null, runtime, null));
        assertThat(pilot.state()).isEqualTo(PilotState.NEW);
        manager.supervise();
        fabric.allRunning();
        manager.supervise();
        assertThat(manager.pilot(pilot.id()).state()).isEqualTo(PilotState.ACTIVE);
        return manager.pilot(pilot.id());
    }

    @Test
    void aPilotWhoseMembersCannotBeSpawnedFailsWithTheRefusalInWordsNotItsJson() throws Exception {
        manager = open(false);
        byte[] problem = ("{\"type\":\"urn:fabric:problem:unknown-host\",\"title\":\"Bad Request\",\"status\":400,"
                + "\"detail\":\"this spawner has no host 'nosuchhost'\",\"reason\":\"unknown-host\"}").getBytes(StandardCharsets.UTF_8);
        fabric.beforeSpawn = () -> {
            throw HttpClientErrorException.create(HttpStatus.BAD_REQUEST, "Bad Request", HttpHeaders.EMPTY, problem, StandardCharsets.UTF_8);
        };
        PilotWire.Pilot created = manager.create(new PilotWire.PilotDescription(1, 1, null, "1h", null));
        manager.supervise();

        PilotWire.Pilot failed = manager.pilot(created.id());
        assertThat(failed.state()).isEqualTo(PilotState.FAILED);
        assertThat(failed.reason()).contains("could not spawn its members (this spawner has no host 'nosuchhost' (unknown-host, HTTP 400))")
                .doesNotContain("{");
    }

    @Test
    void theAgentsGetTheManagersPrefetchAndHorizon() throws Exception {
        manager = open(false, PilotSettings.of(Map.of("agent-prefetch", "8", "agent-prefetch-horizon", "0")), Clock.systemUTC());
        manager.create(new PilotWire.PilotDescription(1, 1, null, "1h", null));
        manager.supervise();

        LoopbackFabric.Spawned agent = fabric.spawned.stream().filter(s -> s.type().equals("agent")).findFirst().orElseThrow();
        assertThat(agent.config()).containsEntry("prefetch", "8").containsEntry("prefetch-horizon", "0ms");
        assertThat(dev.fabric.spawner.role.agent.AgentSettings.of(agent.config(), dir).prefetchHorizon()).isZero();
    }

    @Test
    void aPilotSpawnsItsQueuePubsubAndAgentsAndIsActiveOnceAllRun() throws Exception {
        manager = open(false);
        PilotWire.Pilot created = manager.create(new PilotWire.PilotDescription(2, 4, null, "1h", null));
        assertThat(created.state()).isEqualTo(PilotState.NEW);
        manager.supervise();
        PilotWire.Pilot pilot = manager.pilot(created.id());
        assertThat(pilot.state()).isEqualTo(PilotState.LAUNCHING);
        assertThat(fabric.spawned).extracting(LoopbackFabric.Spawned::type).containsExactly("queue", "pubsub", "agent", "agent");
        assertThat(pilot.agents()).hasSize(2);
        LoopbackFabric.Spawned agent = fabric.spawned.get(2);
        assertThat(agent.config()).containsEntry("cores", "4").containsEntry("queue", pilot.queue()).containsEntry("pubsub", pilot.pubsub())
                .containsEntry("topic", "tasks." + pilot.id()).containsEntry("pilot", pilot.id()).containsEntry("rerun-policy", "rerun");

        assertThat(agent.config()).as("the defaults: the horizon is left to the agent").containsEntry("prefetch", "2")
                .doesNotContainKey("prefetch-horizon");

        manager.supervise();
        assertThat(manager.pilot(pilot.id()).state()).as("members still PENDING").isEqualTo(PilotState.LAUNCHING);
        fabric.allRunning();
        manager.supervise();
        PilotWire.Pilot active = manager.pilot(pilot.id());
        assertThat(active.state()).isEqualTo(PilotState.ACTIVE);
        assertThat(active.endsAt()).isAfter(active.activeAt());
    }

    @Test
    void aQueuedTaskNoAgentHoldsIsCanceledAtOnceByWithdrawingItsMessageEvenAfterARestart() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        List<String> ids = manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(task("sleep", "300"), task("true"),
                task("true")))).ids();
        soon().until(() -> ids.stream().allMatch(id -> manager.task(id).state() == TaskState.QUEUED));

        PilotWire.Task canceled = manager.cancelTask(ids.get(1));
        assertThat(canceled.state()).as("no agent will get it: it is final now").isEqualTo(TaskState.CANCELED);
        assertThat(canceled.reason()).isEqualTo(TaskEvent.REASON_CANCELED_QUEUED);
        assertThat(fabric.withdrawn).containsExactly(pilot.queue() + "#1");
        assertThat(fabric.published(pilot.control())).as("no agent needs telling").isEmpty();

        // The queue's ids are journaled with the tasks: a restarted manager withdraws as well.
        manager.close();
        manager = open(true);
        assertThat(manager.cancelTask(ids.get(2)).state()).isEqualTo(TaskState.CANCELED);
        assertThat(fabric.withdrawn).containsExactly(pilot.queue() + "#1", pilot.queue() + "#2");

        // One an agent holds (or the queue cannot say): the agents are told, and the one holding it ends it.
        fabric.withdrawable = false;
        assertThat(manager.cancelTask(ids.getFirst()).state()).isEqualTo(TaskState.QUEUED);
        assertThat(fabric.published(pilot.control())).singleElement().asString().contains(ids.getFirst());
    }

    @Test
    void tasksAreQueuedAndEachFinalStateIsRecordedOnceTheFirstWins() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        List<String> ids = manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(task("true"), task("echo", "hi")))).ids();
        soon().until(() -> fabric.queued(pilot.queue()).size() == 2);
        assertThat(fabric.queued(pilot.queue())).anySatisfy(body -> assertThat(body).contains(ids.getFirst(), "\"command\":[\"true\"]"));
        soon().until(() -> manager.task(ids.get(1)).state() == TaskState.QUEUED);

        fabric.publish(pilot.pubsub(), pilot.topic(), List.of(JSON.writeValueAsString(event(ids.get(1), pilot.id(), TaskState.RUNNING, null, null))));
        soon().until(() -> manager.task(ids.get(1)).state() == TaskState.RUNNING);
        fabric.publish(pilot.pubsub(), pilot.topic(), List.of(
                JSON.writeValueAsString(event(ids.get(1), pilot.id(), TaskState.DONE, 0, "hi\n")),
                JSON.writeValueAsString(event(ids.get(1), pilot.id(), TaskState.FAILED, 1, "again")),
                "not an event"));
        soon().until(() -> manager.task(ids.get(1)).isFinal());
        Thread.sleep(200);
        assertThat(manager.task(ids.get(1)).state()).isEqualTo(TaskState.DONE);
        assertThat(manager.output(ids.get(1)).stdout()).isEqualTo("hi\n");
        assertThat(manager.task(ids.get(1)).sequence()).isEqualTo(1);

        assertThatThrownBy(() -> manager.output(ids.getFirst())).isInstanceOfSatisfying(ProblemException.class, e -> {
            assertThat(e.status()).isEqualTo(409);
            assertThat(e.reason()).isEqualTo("task-not-run");
        });
        assertThat(manager.tasks().finalsAfter(0, "s-1", null, Duration.ZERO).tasks()).extracting(PilotWire.Task::id)
                .containsExactly(ids.get(1));
        assertThat(manager.tasks().finalsAfter(1, "s-1", null, Duration.ZERO).tasks()).isEmpty();
    }

    @Test
    void aSubmissionSaysWhereTheFinalsFeedStoodSoAWaitForItsTasksNeedNotReadEarlierFinals() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        PilotWire.Submitted first = manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(task("true"))));
        assertThat(first.finalsAfter()).isZero();
        String id = first.ids().getFirst();
        soon().until(() -> manager.task(id).state() == TaskState.QUEUED);
        fabric.publish(pilot.pubsub(), pilot.topic(), List.of(JSON.writeValueAsString(event(id, pilot.id(), TaskState.DONE, 0, ""))));
        soon().until(() -> manager.task(id).isFinal());

        PilotWire.Submitted second = manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(task("true"))));
        assertThat(second.finalsAfter()).isEqualTo(manager.task(id).sequence()).isEqualTo(1);
        assertThat(manager.tasks().finalsAfter(second.finalsAfter(), "s-1", null, Duration.ZERO).tasks()).isEmpty();

        // A retried submission names a task the manager has, which may have ended before: the feed from its start.
        TaskDescription again = task("true").withId(id);
        PilotWire.Submitted retried = manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(again, task("echo"))));
        assertThat(retried.finalsAfter()).isZero();
        assertThat(manager.tasks().finalsAfter(retried.finalsAfter(), "s-1", null, Duration.ZERO).tasks()).extracting(PilotWire.Task::id)
                .contains(id);
    }

    /** Tasks that each carry an environment variable of {@code bytes} characters. */
    static List<TaskDescription> tasksWithEnvironment(int count, int bytes) {
        return IntStream.range(0, count).mapToObj(i -> new TaskDescription(null, null, List.of("printenv", "DATA"),
                Map.of("DATA", "x".repeat(bytes)), null, null, null)).toList();
    }

    @Test
    void aThousandTasksWithAKibibyteOfEnvironmentEachAreQueuedInRequestsTheQueueTakes() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);

        List<String> ids = manager.submit(pilot.id(), new PilotWire.Submission("s-1", tasksWithEnvironment(1000, 1024))).ids();

        soon().untilAsserted(() -> assertThat(manager.tasks(pilot.id(), null, TaskState.QUEUED)).hasSize(1000));
        assertThat(fabric.queued(pilot.queue())).hasSize(1000);
        assertThat(fabric.refusedAsTooLarge).as("enqueue requests refused as too large").isZero();
        assertThat(fabric.enqueueRequests).hasSizeGreaterThan(1).allMatch(bytes -> bytes <= RequestBatches.MEMBER_MAX_BODY_BYTES);
        assertThat(ids).hasSize(1000);
    }

    @Test
    void aQueueThatTakesLessThanTheManagerCountsWithGetsTheBatchInHalves() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        fabric.queueTakes = 64 * 1024;

        manager.submit(pilot.id(), new PilotWire.Submission("s-1", tasksWithEnvironment(300, 1024)));

        soon().untilAsserted(() -> assertThat(manager.tasks(pilot.id(), null, TaskState.QUEUED)).hasSize(300));
        assertThat(fabric.refusedAsTooLarge).isPositive();
        assertThat(fabric.enqueueRequests).allMatch(bytes -> bytes <= 64 * 1024);
    }

    @Test
    void aTaskNoEnqueueRequestCanCarryFailsNamingTheLimitAndTheTasksBehindItAreQueued() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        // Accepted under a larger limit (a node set otherwise), then too large for the queue even alone.
        fabric.queueTakes = 4 * 1024;
        List<TaskDescription> tasks = new java.util.ArrayList<>(tasksWithEnvironment(3, 10));
        tasks.add(1, tasksWithEnvironment(1, 8 * 1024).getFirst());

        List<String> ids = manager.submit(pilot.id(), new PilotWire.Submission("s-1", tasks)).ids();

        soon().untilAsserted(() -> assertThat(manager.task(ids.get(1)).state()).isEqualTo(TaskState.FAILED));
        PilotWire.Task failed = manager.task(ids.get(1));
        assertThat(failed.reason()).isEqualTo(PilotManager.REASON_TOO_LARGE);
        assertThat(failed.detail()).contains("refused it alone as too large").contains("fabric.security.signature.max-body-size");
        soon().untilAsserted(() -> assertThat(manager.tasks(pilot.id(), null, TaskState.QUEUED)).extracting(PilotWire.Task::id)
                .containsExactlyInAnyOrder(ids.get(0), ids.get(2), ids.get(3)));
    }

    @Test
    void aTaskTooLargeForItsQueueIsRefusedWhenSubmitted() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);

        // Over the queue's 256 KiB of one message.
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission("s-1", tasksWithEnvironment(1, 300 * 1024))), 400,
                "invalid-task", "over the 262144 bytes (256 KiB) of one queue message");
        // Under it, but its quotes escaped in an enqueue request over the max-body-size.
        fabric.maxBodyBytes = 64 * 1024;
        TaskDescription quoted = new TaskDescription(null, null, List.of("printenv", "DATA"), Map.of("DATA", "\"".repeat(40 * 1024)),
                null, null, null);
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(task("true"), quoted))), 400,
                "invalid-task", "task 1 of the submission is too large");
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission("s-1", List.of(quoted))), 400,
                "invalid-task", "fabric.security.signature.max-body-size");
        assertThat(manager.tasks(pilot.id(), null, null)).as("nothing of a refused submission").isEmpty();
    }

    @Test
    void badInputIsRefusedWithAReasonAndNothingIsAccepted() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(task("true"),
                new TaskDescription(null, null, null, Map.of(), null, null, null)))), 400, "invalid-task", "has no command");
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(
                new TaskDescription(null, null, List.of("true"), Map.of(), null, "-5s", null)))), 400, "invalid-task", "must be positive");
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(
                new TaskDescription("dup-a", null, List.of("true"), Map.of(), null, null, null),
                new TaskDescription("dup-a", null, List.of("false"), Map.of(), null, null, null)))), 400, "invalid-task",
                "task 1 of the submission proposes id dup-a, which an earlier task of it proposed too");
        assertThat(manager.tasks(pilot.id(), null, null)).as("nothing of a refused submission").isEmpty();
        assertProblem(() -> manager.submit("pilot-nosuch", new PilotWire.Submission(null, List.of(task("true")))), 404, "unknown-pilot",
                "pilot-nosuch");
        assertProblem(() -> manager.task("t-nosuch"), 404, "unknown-task", "t-nosuch");
        assertProblem(() -> manager.output("t-nosuch"), 404, "unknown-task", "t-nosuch");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(0, 1, null, null, null)), 400, "invalid-pilot", "agents");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, null, "-1h", null)), 400, "invalid-pilot", "runtime");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, PilotWire.Where.member("nosuch"), null, null)), 404,
                "unknown-member", "nosuch");
    }

    @Test
    void aRefusedTaskIsNamedByItsPlaceNotByAnIdMadeUpForIt() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(1);
        // Alone, it is "the task"; in a bulk submission, its index; a proposed id, the writer's own, is kept.
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(
                new TaskDescription(null, null, null, Map.of(), null, null, null)))), 400, "invalid-task",
                "the task has no command; give the program and its arguments");
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(task("true"),
                new TaskDescription(null, null, List.of("true"), Map.of(), null, "-5s", null)))), 400, "invalid-task",
                "task 1 of the submission has time limit '-5s'; it must be positive");
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(task("true"),
                new TaskDescription("mine-1", null, List.of(), Map.of(), null, null, null)))), 400, "invalid-task",
                "task 1 of the submission: task mine-1 has an empty command");
        assertThatThrownBy(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(
                new TaskDescription(null, null, null, Map.of(), null, null, null)))))
                .as("no made-up id").message().doesNotContainPattern("t-[0-9a-f]{16}");
    }

    @Test
    void aRestartUnderItsIdRecoversPilotsTasksAndFinalStatesFromTheJournal() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(2);
        List<TaskDescription> many = IntStream.range(0, 50).mapToObj(i -> task("echo", Integer.toString(i))).toList();
        List<String> ids = manager.submit(pilot.id(), new PilotWire.Submission("s-2", many)).ids();
        soon().until(() -> fabric.queued(pilot.queue()).size() == 50);
        fabric.publish(pilot.pubsub(), pilot.topic(), List.of(JSON.writeValueAsString(event(ids.getFirst(), pilot.id(), TaskState.DONE, 0, "0\n"))));
        soon().until(() -> manager.task(ids.getFirst()).isFinal());
        manager.close();
        // A torn line, as a kill -9 mid-write leaves it.
        Files.writeString(dir.resolve(PilotJournal.FILE_NAME), "{\"kind\":\"ended\",\"ev", StandardOpenOption.APPEND);

        manager = open(true);
        PilotWire.Pilot recovered = manager.pilot(pilot.id());
        assertThat(recovered.state()).isEqualTo(PilotState.ACTIVE);
        assertThat(recovered.agents()).isEqualTo(pilot.agents());
        assertThat(manager.tasks(pilot.id(), "s-2", null)).hasSize(50);
        assertThat(manager.task(ids.getFirst()).state()).isEqualTo(TaskState.DONE);
        assertThat(manager.output(ids.getFirst()).stdout()).isEqualTo("0\n");
        assertThat(manager.task(ids.get(1)).state()).isEqualTo(TaskState.QUEUED);
        // The follower resumes after the last recorded event: a duplicate of the old final is not read again, a new one is.
        fabric.publish(pilot.pubsub(), pilot.topic(), List.of(JSON.writeValueAsString(event(ids.get(1), pilot.id(), TaskState.FAILED, 3, ""))));
        soon().until(() -> manager.task(ids.get(1)).isFinal());
        assertThat(manager.task(ids.get(1)).exitStatus()).isEqualTo(3);
        assertThat(manager.task(ids.get(1)).sequence()).isEqualTo(2);
        assertThat(fabric.queued(pilot.queue())).as("queued tasks are not queued again").hasSize(50);
    }

    @Test
    void aPilotCanceledBeforeItsRuntimeIsOverKeepsWhenItEndedApartFromItsPlannedEndAcrossARestart() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-05T00:00:00Z"));
        manager = open(false, SETTINGS, clock);
        PilotWire.Pilot pilot = activePilot(1, "1h");
        assertThat(pilot.endsAt()).isEqualTo(Instant.parse("2026-12-05T01:00:00Z"));
        assertThat(pilot.endedAt()).isNull();

        clock.advance(Duration.ofMinutes(10));
        PilotWire.Pilot canceled = manager.cancel(pilot.id());
        assertThat(canceled.state()).isEqualTo(PilotState.CANCELED);
        assertThat(canceled.endedAt()).isEqualTo(Instant.parse("2026-12-05T00:10:00Z"));
        assertThat(canceled.endsAt()).as("the planned end, as it was").isEqualTo(pilot.endsAt());

        // Journaled with the final state: a restarted manager answers the same.
        manager.close();
        clock.advance(Duration.ofMinutes(5));
        manager = open(true, SETTINGS, clock);
        PilotWire.Pilot recovered = manager.pilot(pilot.id());
        assertThat(recovered.state()).isEqualTo(PilotState.CANCELED);
        assertThat(recovered.endedAt()).isEqualTo(canceled.endedAt());
        assertThat(recovered.endsAt()).isEqualTo(pilot.endsAt());
    }

    /** A clock the test moves: the retention of ended pilots passes without waiting for it. */
    void end(PilotWire.Pilot pilot, String task, TaskState state, String stdout) {
        fabric.publish(pilot.pubsub(), pilot.topic(), List.of(JSON.writeValueAsString(event(task, pilot.id(), state,
                state == TaskState.DONE ? 0 : 1, stdout))));
        soon().until(() -> manager.task(task).isFinal());
    }

    @Test
    void aPilotEndedPastItsRetentionIsForgottenWithItsTasksAndARestartAfterTheCompactionRecoversExactlyWhatWasKept() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-05T00:00:00Z"));
        PilotSettings settings = new PilotSettings(Duration.ofMinutes(5), Duration.ofHours(1), 2, 1000, Duration.ofHours(1));
        manager = open(false, settings, clock);
        PilotWire.Pilot gone = activePilot(1, "10d");
        PilotWire.Pilot kept = activePilot(1, "10d");
        List<String> goneIds = manager.submit(gone.id(), new PilotWire.Submission("s-1", List.of(task("true"), task("true"), task("sleep", "60"))))
                .ids();
        List<String> keptIds = manager.submit(kept.id(), new PilotWire.Submission("s-1", List.of(task("echo", "0"), task("false"),
                task("echo", "2"), task("true")))).ids();
        soon().until(() -> fabric.queued(gone.queue()).size() == 3 && fabric.queued(kept.queue()).size() == 4
                && manager.task(goneIds.getLast()).state() == TaskState.QUEUED && manager.task(keptIds.getLast()).state() == TaskState.QUEUED);
        // Final states of both pilots interleaved (sequences 1 to 4), then the first pilot canceled (its last task: sequence 5).
        end(gone, goneIds.get(0), TaskState.DONE, "");
        end(kept, keptIds.get(0), TaskState.DONE, "0\n");
        end(gone, goneIds.get(1), TaskState.DONE, "");
        end(kept, keptIds.get(1), TaskState.FAILED, "");
        assertThat(manager.cancel(gone.id()).state()).isEqualTo(PilotState.CANCELED);
        assertThat(manager.task(goneIds.get(2)).sequence()).isEqualTo(5);

        clock.advance(Duration.ofMinutes(30));
        assertThat(manager.compactIfDue()).as("within its retention").isFalse();
        Path journal = dir.resolve(PilotJournal.FILE_NAME);
        long before = Files.size(journal);
        PilotWire.Pilot keptPilot = manager.pilot(kept.id());
        List<PilotWire.Task> keptTasks = manager.tasks(kept.id(), null, null);

        clock.advance(Duration.ofHours(1));
        manager.supervise();
        assertProblem(() -> manager.pilot(gone.id()), 404, "unknown-pilot", gone.id());
        goneIds.forEach(id -> assertProblem(() -> manager.task(id), 404, "unknown-task", id));
        assertThat(Files.size(journal)).isLessThan(before);
        assertThat(Files.readString(journal)).doesNotContain(gone.id());
        assertThat(manager.pilot(kept.id())).isEqualTo(keptPilot);
        assertThat(manager.tasks(kept.id(), null, null)).isEqualTo(keptTasks);

        manager.close();
        // What a crash in the middle of a later compaction leaves beside the journal: ignored and removed.
        Files.writeString(dir.resolve(PilotJournal.COMPACTING), "{\"kind\":\"compacted\",\"la");
        manager = open(true, settings, clock);
        assertThat(dir.resolve(PilotJournal.COMPACTING)).doesNotExist();
        assertThat(manager.list()).containsExactly(keptPilot);
        assertThat(manager.tasks(kept.id(), null, null)).isEqualTo(keptTasks);
        assertThat(manager.output(keptIds.get(0)).stdout()).isEqualTo("0\n");
        assertThat(manager.tasks().finalsAfter(0, "s-1", null, Duration.ZERO).tasks()).extracting(PilotWire.Task::id, PilotWire.Task::sequence)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(keptIds.get(0), 2L), org.assertj.core.groups.Tuple.tuple(keptIds.get(1), 4L));
        goneIds.forEach(id -> assertProblem(() -> manager.task(id), 404, "unknown-task", id));
        // The next final state continues after the highest sequence given, even though its task was dropped; nothing is queued again.
        end(kept, keptIds.get(2), TaskState.DONE, "2\n");
        assertThat(manager.task(keptIds.get(2)).sequence()).isEqualTo(6);
        assertThat(manager.tasks().finalsAfter(4, null, null, Duration.ZERO).tasks()).extracting(PilotWire.Task::id).containsExactly(keptIds.get(2));
        assertThat(fabric.queued(kept.queue())).hasSize(4);
        assertThat(manager.task(keptIds.get(3)).state()).isEqualTo(TaskState.QUEUED);
    }

    @Test
    void aLostAgentIsReplacedAndACanceledPilotCancelsItsUnfinishedTasks() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(2);
        String lost = pilot.agents().getFirst();
        fabric.set(lost, InstanceState.LOST);
        manager.supervise();
        PilotWire.Pilot after = manager.pilot(pilot.id());
        assertThat(after.state()).isEqualTo(PilotState.ACTIVE);
        assertThat(after.agents()).doesNotContain(lost).hasSize(2);
        assertThat(after.replaced()).singleElement().satisfies(r -> assertThat(r.lost()).isEqualTo(lost));

        String id = manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(task("sleep", "60")))).ids().getFirst();
        PilotWire.Pilot canceled = manager.cancel(pilot.id());
        assertThat(canceled.state()).isEqualTo(PilotState.CANCELED);
        assertThat(fabric.stopped).containsAll(after.agents()).contains(pilot.queue(), pilot.pubsub());
        assertThat(manager.task(id).state()).isEqualTo(TaskState.CANCELED);
        assertThat(manager.task(id).reason()).isEqualTo(PilotManager.REASON_PILOT_CANCELED);
        assertProblem(() -> manager.submit(pilot.id(), new PilotWire.Submission(null, List.of(task("true")))), 409, "pilot-ended", "CANCELED");
        assertProblem(() -> manager.cancelTask(id), 409, "task-final", "CANCELED");
    }

    @Test
    void aSupervisionRoundDuringACancelReplacesNoAgentTheCancelStopped() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(2);
        int spawnedBefore = fabric.spawned.size();
        // The round the manager runs every few seconds, here exactly while the cancel's first agent has stopped.
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        fabric.afterStop = () -> {
            if (once.compareAndSet(false, true)) {
                manager.supervise();
            }
        };

        PilotWire.Pilot canceled = manager.cancel(pilot.id());

        assertThat(once).isTrue();
        assertThat(canceled.state()).isEqualTo(PilotState.CANCELED);
        assertThat(canceled.replaced()).isEmpty();
        assertThat(fabric.spawned).as("members spawned after the cancel began").hasSize(spawnedBefore);
        assertThat(manager.pilot(pilot.id()).state()).isEqualTo(PilotState.CANCELED);
        assertThat(fabric.stopped).containsAll(pilot.agents()).contains(pilot.queue(), pilot.pubsub());
    }

    @Test
    void whileItsMemberStopsThePilotsMembersAtShutdownNoRoundReplacesThemOrEndsThePilot() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(2);
        int spawnedBefore = fabric.spawned.size();

        // Its member shuts down with stop-members-on-shutdown (./fabric down): the role hears it first, then
        // the member stops the pilot's agents, queue and pubsub, and rounds may still come.
        manager.stopWorking();
        for (String agent : pilot.agents()) {
            fabric.set(agent, InstanceState.STOPPED);
        }
        fabric.set(pilot.queue(), InstanceState.STOPPED);
        fabric.set(pilot.pubsub(), InstanceState.STOPPED);
        manager.supervise();

        assertThat(fabric.spawned).as("members spawned while the member stops them").hasSize(spawnedBefore);
        PilotWire.Pilot after = manager.pilot(pilot.id());
        assertThat(after.state()).as("not FAILED for a queue its own member stopped").isEqualTo(PilotState.ACTIVE);
        assertThat(after.replaced()).isEmpty();
        assertThat(after.agents()).containsExactlyElementsOf(pilot.agents());
        // As the journal has it, for the member's next incarnation to carry on from.
        manager.close();
        manager = open(true);
        assertThat(manager.pilot(pilot.id()).state()).isEqualTo(PilotState.ACTIVE);
        assertThat(manager.pilot(pilot.id()).agents()).containsExactlyElementsOf(pilot.agents());
    }

    @Test
    void aReplacementSpawnedWhileItsPilotIsCanceledIsStoppedAndTheCancelStands() throws Exception {
        manager = open(false);
        PilotWire.Pilot pilot = activePilot(2);
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        fabric.beforeSpawn = () -> {
            if (once.compareAndSet(false, true)) {
                manager.cancel(pilot.id());
            }
        };
        // The hook before the loss: the round the pilot's creation woke may be the one that sees it.
        fabric.set(pilot.agents().getFirst(), InstanceState.LOST);

        manager.supervise();

        assertThat(once).isTrue();
        String replacement = fabric.spawned.getLast().id();
        assertThat(fabric.spawned.getLast().type()).isEqualTo("agent");
        assertThat(fabric.stopped).as("the replacement the round spawned").contains(replacement);
        PilotWire.Pilot after = manager.pilot(pilot.id());
        assertThat(after.state()).isEqualTo(PilotState.CANCELED);
        assertThat(after.agents()).doesNotContain(replacement);
        assertThat(after.replaced()).isEmpty();
    }

    @Test
    void aMemberThatFailsWhileLaunchingFailsThePilotAndWhatWasSpawnedIsStopped() throws Exception {
        manager = open(false);
        PilotWire.Pilot created = manager.create(new PilotWire.PilotDescription(1, 1, null, null, null));
        manager.supervise();
        PilotWire.Pilot pilot = manager.pilot(created.id());
        fabric.set(pilot.pubsub(), InstanceState.FAILED);
        manager.supervise();
        PilotWire.Pilot failed = manager.pilot(created.id());
        assertThat(failed.state()).isEqualTo(PilotState.FAILED);
        assertThat(failed.reason()).contains(pilot.pubsub(), "FAILED while launching");
        assertThat(fabric.stopped).contains(pilot.queue(), pilot.agents().getFirst());
    }

    @Test
    void anAgentThatFailsToBootstrapWhileLaunchingIsReplaced() throws Exception {
        manager = open(false);
        PilotWire.Pilot created = manager.create(new PilotWire.PilotDescription(2, 1, null, null, null));
        manager.supervise();
        String failed = manager.pilot(created.id()).agents().getFirst();
        fabric.set(failed, InstanceState.FAILED);
        manager.supervise();
        PilotWire.Pilot replaced = manager.pilot(created.id());
        assertThat(replaced.state()).isEqualTo(PilotState.LAUNCHING);
        assertThat(replaced.agents()).hasSize(2).doesNotContain(failed);
        assertThat(fabric.stopped).contains(failed);
        fabric.allRunning();
        manager.supervise();
        assertThat(manager.pilot(created.id()).state()).isEqualTo(PilotState.ACTIVE);
    }

    @Test
    void agentsOnSeveralHostsGoToEachInTurnThroughTheirBridgeAndAReplacementTakesTheLostOnesHost() throws Exception {
        manager = open(false);
        PilotWire.Where where = PilotWire.Where.hosts(List.of("compute-1", "compute-2"))
                .through("http://head:19111", Connectivity.FIREWALL_TO_SERVICE);
        PilotWire.Pilot created = manager.create(new PilotWire.PilotDescription(3, 1, where, null, null));
        manager.supervise();
        List<LoopbackFabric.Spawned> agents = fabric.spawned.stream().filter(s -> s.type().equals("agent")).toList();
        assertThat(agents).extracting(a -> a.where().host()).containsExactly("compute-1", "compute-2", "compute-1");
        assertThat(agents).allSatisfy(agent -> {
            assertThat(agent.where().via()).isEqualTo("http://head:19111");
            assertThat(agent.where().connectivity()).isEqualTo(Connectivity.FIREWALL_TO_SERVICE);
            assertThat(agent.config()).containsEntry("via", "http://head:19111");
        });
        // The pilot's queue and pubsub stay the manager's own children, reached directly by it.
        assertThat(fabric.spawned).filteredOn(s -> !s.type().equals("agent")).allSatisfy(s -> assertThat(s.where()).isEqualTo(PilotWire.Where.MANAGER));

        PilotWire.Pilot pilot = manager.pilot(created.id());
        String lost = pilot.agents().get(1);
        fabric.set(lost, InstanceState.LOST);
        manager.supervise();
        LoopbackFabric.Spawned replacement = fabric.spawned.getLast();
        assertThat(manager.pilot(created.id()).agents().get(1)).isEqualTo(replacement.id());
        assertThat(replacement.where().host()).as("the lost agent's host").isEqualTo("compute-2");
        assertThat(replacement.config()).containsEntry("via", "http://head:19111");
    }

    @Test
    void aPlacementThatCannotWorkIsRefusedWithTheReason() throws Exception {
        manager = open(false);
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, PilotWire.Where.hosts(List.of("compute-1", "compute-2")),
                null, null)), 400, "invalid-pilot", "2 hosts for 1 agents");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(2, 1, PilotWire.Where.hosts(List.of()), null, null)), 400,
                "invalid-pilot", "where.hosts names 0 hosts");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(2, 1, new PilotWire.Where(null, "head", List.of("compute-1"),
                null, null), null, null)), 400, "invalid-pilot", "hosts and a host");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, PilotWire.Where.host("Compute_1"), null, null)), 400,
                "invalid-pilot", "'Compute_1'");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, PilotWire.Where.host("compute-1")
                .through("head:19111", null), null, null)), 400, "invalid-pilot", "not a bridge's relay URL");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, PilotWire.Where.host("compute-1")
                .through(null, Connectivity.FIREWALL_TO_SERVICE), null, null)), 400, "invalid-pilot", "needs where.via");
        assertProblem(() -> manager.create(new PilotWire.PilotDescription(1, 1, PilotWire.Where.host("compute-1")
                .through("http://head:19111", Connectivity.SPLICED), null, null)), 400, "invalid-pilot", "SPLICED is not available");
        assertThat(manager.list()).as("nothing of a refused pilot").isEmpty();
        assertThat(fabric.spawned).isEmpty();
    }

    static void assertProblem(Runnable call, int status, String reason, String detail) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ProblemException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.getMessage()).contains(detail);
        });
    }
}
