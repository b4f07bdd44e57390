package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.FabricConnection;
import dev.fabric.core.client.MemberRefusedException;
import dev.fabric.core.client.Reconnection;
import dev.fabric.core.client.TaskManager;
import dev.fabric.core.pilot.PilotState;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tasks end to end (docs/tasks.md) on one fabric shared by every case, started as {@code ./fabric up}
 * starts one (the registry, the spawner jar spawning members as processes): a pilot manager, a
 * pilot of 2 agents of 1 core with its queue and pubsub, all real members. 1,000 tasks of four kinds
 * each reach their right final state with their output while an agent is killed -9 mid-run; the pilot
 * manager killed -9 comes back under its id with its pilots and tasks; an application killed -9
 * mid-wait reconnects and its wait completes without resubmitting; bad input gets a clear 4xx.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TasksIT {

    @RegisterExtension
    // Five member JVMs start at once on a machine shared with other builds: more than the default 60 s to redeem
    // (members that spawn inherit the setting).
    static final LocalFabric.PerClass fabric = new LocalFabric.PerClass("--fabric.spawner.bootstrap-timeout=300s",
            "--fabric.spawner.otp-ttl=300s");

    static final Duration PATIENCE = Duration.ofMinutes(6);

    static String manager;
    static PilotWire.Pilot pilot;
    static FabricClient client;

    static Cli.Result ok(String... args) {
        Cli.Result result = fabric.cli().run(args);
        assertThat(result.exitCode()).as("%s: %s", List.of(args), result.err()).isZero();
        return result;
    }

    @AfterAll
    static void closeClient() {
        if (client != null) {
            client.close();
        }
    }

    @BeforeAll
    static void pilot() {
        manager = ok("spawn", "pilot-manager", "--wait", "--timeout", "4m").out().strip();
        String id = ok("pilot", "submit", "--agents", "2", "--cores", "1", "--runtime", "2h", "--wait", "--timeout", "5m").out().strip();
        // A member JVM restarted on a machine shared with other builds may take minutes.
        client = FabricClient.builder(fabric.registry().baseUrl(), fabric.fabricKeys()).name("tasks-it")
                .restartTimeout(Duration.ofMinutes(5)).build();
        pilot = client.tasks(manager, "it").pilot(id);
        assertThat(pilot.state()).isEqualTo(PilotState.ACTIVE);
        assertThat(pilot.agents()).hasSize(2);
        assertThat(ok("pilot", "list").out()).contains(id, "ACTIVE");
    }

    static long pidOf(String member) {
        return Long.parseLong(fabric.registry().get(member).metadata().get("pid"));
    }

    /** The expected end of each kind of task. */
    record Kind(TaskState state, String reason, Integer exitStatus, Function<Integer, String> stdout) {}

    /**
     * A request body is capped by every member's signature filter (512 KB from the spawner): 1,000 tasks
     * with a 1 KiB variable each are over 1 MB, submitted through the client and, as escaped strings,
     * put in the pilot's queue; both go in requests the member takes, and every task runs.
     */
    @Test
    @Order(0)
    void aThousandTasksWithAKibibyteOfEnvironmentEachAllRunToDone() throws Exception {
        TaskManager tasks = client.tasks(manager, "large");
        List<TaskDescription> descriptions = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            descriptions.add(new TaskDescription("large-" + i, null, List.of("sh", "-c", "test ${#DATA} -eq 1024"),
                    Map.of("DATA", "\"" + "d".repeat(1022) + "\""), null, "1m", "large"));
        }

        List<String> ids = tasks.submit(pilot.id(), descriptions);

        assertThat(ids).hasSize(1000).doesNotHaveDuplicates();
        TaskManager.Outcome outcome = tasks.waitAll(ids, PATIENCE);
        assertThat(outcome.pending()).as("tasks not ended").isEmpty();
        assertThat(outcome.finished()).hasSize(1000).allSatisfy(task -> assertThat(task.state()).as("%s", task).isEqualTo(TaskState.DONE));
    }

    @Test
    @Order(1)
    void aThousandTasksEachReachTheirRightFinalStateWhileAnAgentIsKilled() throws Exception {
        TaskManager tasks = client.tasks(manager, "thousand");
        List<TaskDescription> descriptions = new ArrayList<>();
        Map<String, Kind> expected = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            String id = "k-" + i;
            if (i % 100 == 7) {
                descriptions.add(new TaskDescription(id, null, List.of("sleep", "30"), Map.of(), null, "1s", "slow"));
                expected.put(id, new Kind(TaskState.FAILED, "time-limit", null, n -> null));
            } else if (i % 25 == 3) {
                descriptions.add(new TaskDescription(id, null, List.of("sh", "-c", "echo broken >&2; exit 3"), Map.of(), null, null, "fail"));
                expected.put(id, new Kind(TaskState.FAILED, "exit-status", 3, n -> ""));
            } else if (i % 2 == 0) {
                descriptions.add(new TaskDescription(id, null, List.of("echo", "task", Integer.toString(i)), Map.of(), null, "1m", "echo"));
                expected.put(id, new Kind(TaskState.DONE, null, 0, n -> "task " + n + "\n"));
            } else {
                descriptions.add(new TaskDescription(id, null, List.of("true"), Map.of(), null, "1m", "true"));
                expected.put(id, new Kind(TaskState.DONE, null, 0, n -> ""));
            }
        }
        List<String> ids = tasks.submit(pilot.id(), descriptions);
        assertThat(ids).hasSize(1000).doesNotHaveDuplicates();

        // kill -9 of an agent once tasks run: its parent (the pilot manager's node) restarts it under its id,
        // and what it held runs again (rerun policy).
        String victim = pilot.agents().getFirst();
        await().atMost(PATIENCE).until(() -> tasks.list(pilot.id(), TaskState.DONE).size() >= 50);
        long pid = pidOf(victim);
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

        Cli.Result waited = ok("task", "wait", "--session", "thousand", "--progress", "lines", "--timeout", "8m");
        assertThat(waited.err()).contains("1000/1000 ended");
        assertThat(waited.out()).contains("DONE", "FAILED");

        List<PilotWire.Task> ended = tasks.list();
        assertThat(ended).hasSize(1000).allSatisfy(t -> assertThat(t.isFinal()).isTrue());
        for (PilotWire.Task task : ended) {
            Kind kind = expected.get(task.id());
            assertThat(task.state()).as("%s", task).isEqualTo(kind.state());
            if (kind.reason() != null) {
                assertThat(task.reason()).as("%s", task).isEqualTo(kind.reason());
            }
            if (kind.exitStatus() != null) {
                assertThat(task.exitStatus()).as("%s", task).isEqualTo(kind.exitStatus());
            }
        }
        for (int i : List.of(0, 2, 500, 998, 3, 28, 1)) {
            PilotWire.Output output = tasks.output("k-" + i);
            assertThat(output.stdout()).as("k-%s", i).isEqualTo(expected.get("k-" + i).stdout().apply(i));
        }
        assertThat(tasks.output("k-3").stderr()).isEqualTo("broken\n");
        assertThat(ok("task", "output", "--session", "thousand", "k-500").out()).isEqualTo("task 500\n");

        // Every task has exactly one recorded final state: the finals feed names each once.
        PilotWire.Tasks finals = client.call(manager, "pilots", (http, url) -> http.get().uri("/finals?after=0&session=thousand")
                .retrieve().body(PilotWire.Tasks.class));
        assertThat(finals.tasks()).extracting(PilotWire.Task::id).hasSize(1000).doesNotHaveDuplicates();
        ServiceInstance restarted = fabric.registry().get(victim);
        assertThat(restarted.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(restarted.incarnation()).isGreaterThan(1);
    }

    @Test
    @Order(2)
    void thePilotManagerKilledComesBackUnderItsIdWithItsPilotsAndTasks() throws Exception {
        TaskManager tasks = client.tasks(manager, "manager-kill");
        List<TaskDescription> descriptions = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            descriptions.add(new TaskDescription(null, null, List.of("sh", "-c", "sleep 0.02; echo $0", "m" + i), Map.of(), null, null, null));
        }
        List<String> ids = tasks.submit(pilot.id(), descriptions);
        await().atMost(PATIENCE).until(() -> tasks.list(pilot.id(), TaskState.DONE).size() >= 1050);
        long before = fabric.registry().get(manager).incarnation();
        ProcessHandle.of(pidOf(manager)).ifPresent(ProcessHandle::destroyForcibly);

        // The wait goes on through the restart: FabricClient has the manager restarted under its id and asks again.
        TaskManager.Outcome outcome = tasks.waitAll(ids, Duration.ofMinutes(8));
        assertThat(outcome.pending()).isEmpty();
        assertThat(outcome.finished()).hasSize(200).allSatisfy(t -> assertThat(t.state()).isEqualTo(TaskState.DONE));
        ServiceInstance back = fabric.registry().get(manager);
        assertThat(back.incarnation()).isGreaterThan(before);
        PilotWire.Pilot recovered = tasks.pilot(pilot.id());
        assertThat(recovered.state()).isEqualTo(PilotState.ACTIVE);
        assertThat(recovered.queue()).isEqualTo(pilot.queue());
        assertThat(recovered.pubsub()).isEqualTo(pilot.pubsub());
        assertThat(recovered.agents()).isEqualTo(pilot.agents());
        assertThat(recovered.tasks().get(TaskState.DONE)).isGreaterThanOrEqualTo(1000 - 40 - 10 + 200);
        assertThat(tasks.output(ids.get(199)).stdout()).isEqualTo("m199\n");
        assertThat(client.tasks(manager, "thousand").output("k-500").stdout()).as("recovered from the journal").isEqualTo("task 500\n");
    }

    @Test
    @Order(3)
    void anApplicationKilledMidWaitReconnectsAndItsWaitCompletesWithoutResubmitting() throws Exception {
        Path connection = Files.createTempDirectory("task-app-").resolve("connection.json");
        List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                TaskApplication.class.getName(), fabric.registry().baseUrl().toString(), fabric.keys().toString(), connection.toString(),
                manager, "app", pilot.id(), "300");
        Process application = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(application.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            StringBuilder seen = new StringBuilder();
            while ((line = out.readLine()) != null && !line.startsWith("submitted ")) {
                seen.append(line).append('\n');
            }
            assertThat(line).as("the application's output:\n%s", seen).isEqualTo("submitted 300");
            application.destroyForcibly();
            assertThat(application.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }

        // A new process of the application: the saved connection, CONNECT to the session's members, the same tasks.
        Reconnection reconnection = FabricClient.reconnect(FabricConnection.load(connection));
        assertThat(reconnection.complete()).as(reconnection.describeFailures()).isTrue();
        TaskManager tasks = reconnection.tasks("app");
        List<PilotWire.Task> known = tasks.list();
        assertThat(known).hasSize(300);
        TaskManager.Outcome outcome = tasks.waitAll(known.stream().map(PilotWire.Task::id).toList(), Duration.ofMinutes(8));
        assertThat(outcome.complete()).isTrue();
        assertThat(outcome.finished()).hasSize(300).allSatisfy(t -> assertThat(t.state()).isEqualTo(TaskState.DONE));
        assertThat(tasks.list()).as("nothing resubmitted").hasSize(300);
        assertThat(tasks.output("app-42").stdout()).isEqualTo("app 42\n");
    }

    @Test
    @Order(4)
    void aCanceledTaskThatNoAgentRunsEndsAtOnceWhileTheTasksAheadOfItRun() {
        TaskManager tasks = client.tasks(manager, "cancel");
        // Two long tasks take both agents' cores; the other six wait: two held by the agents for their next free
        // core (prefetch 2), four in the queue.
        List<TaskDescription> sleepers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            sleepers.add(new TaskDescription(null, null, List.of("sleep", "300"), Map.of(), null, null, null));
        }
        tasks.submit(pilot.id(), sleepers);
        await().atMost(PATIENCE).until(() -> tasks.list().stream().filter(t -> t.state() == TaskState.RUNNING).count() == 2);
        List<String> running = tasks.list().stream().filter(t -> t.state() == TaskState.RUNNING).map(PilotWire.Task::id).toList();
        List<String> waiting = tasks.list().stream().filter(t -> !t.isFinal() && t.state() != TaskState.RUNNING)
                .map(PilotWire.Task::id).toList();
        assertThat(waiting).hasSize(6);

        waiting.forEach(tasks::cancel);
        // Before, each stayed QUEUED until a core was free, 300 s on: the queue's message is withdrawn, the agent
        // holding one for a core ends it at once.
        await().atMost(Duration.ofSeconds(90)).until(() -> waiting.stream().allMatch(id -> tasks.get(id).isFinal()));
        for (String id : waiting) {
            PilotWire.Task task = tasks.get(id);
            assertThat(task.state()).as(id).isEqualTo(TaskState.CANCELED);
            assertThat(task.reason()).as(id).isEqualTo(TaskEvent.REASON_CANCELED_QUEUED);
        }
        assertThat(running).allSatisfy(id -> assertThat(tasks.get(id).state()).as(id).isEqualTo(TaskState.RUNNING));

        running.forEach(tasks::cancel);
        await().atMost(PATIENCE).until(() -> running.stream().allMatch(id -> tasks.get(id).isFinal()));
        assertThat(running).allSatisfy(id -> assertThat(tasks.get(id).reason()).as(id).isEqualTo(TaskEvent.REASON_CANCELED_RUNNING));
        // Nothing canceled ran later: an agent that gets a withdrawn task's message never gets it.
        assertThat(tasks.list()).allSatisfy(task -> assertThat(task.state()).isEqualTo(TaskState.CANCELED));
    }

    @Test
    @Order(5)
    void badInputGetsAClearRefusalWithItsReason() throws Exception {
        Cli.Result unknownPilot = fabric.cli().run("task", "submit", "pilot-nosuch", "--", "true");
        assertThat(unknownPilot.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(unknownPilot.err()).contains("pilot-nosuch").containsOnlyOnce("(unknown-pilot, HTTP 404)");

        Cli.Result unknownTask = fabric.cli().run("task", "output", "t-nosuch");
        assertThat(unknownTask.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(unknownTask.err()).contains("t-nosuch").containsOnlyOnce("(unknown-task, HTTP 404)");

        Cli.Result negative = fabric.cli().run("task", "submit", pilot.id(), "--time-limit=-5s", "--", "true");
        assertThat(negative.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(negative.err()).contains("time limit '-5s'", "must be positive").containsOnlyOnce("(invalid-task, HTTP 400)");

        TaskManager tasks = client.tasks(manager, "bad");
        assertThatThrownBy(() -> tasks.submit(pilot.id(), new TaskDescription(null, null, null, Map.of(), null, null, null)))
                .isInstanceOfSatisfying(MemberRefusedException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.reason()).isEqualTo("invalid-task");
                    assertThat(e.getMessage()).contains("has no command");
                });
        assertThat(tasks.list()).as("nothing of a refused submission").isEmpty();
        // What cannot be a task id is refused before it is sent; an unknown one by the manager, a wait's too, at once.
        assertThatThrownBy(() -> tasks.get("-dash")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'-dash' is not a task id");
        long waitStarted = System.nanoTime();
        assertThatThrownBy(() -> tasks.waitAll(List.of("t-0000000000000000"), Duration.ofMinutes(5)))
                .isInstanceOfSatisfying(MemberRefusedException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.reason()).isEqualTo("unknown-task");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - waitStarted)).as("refused, not waited for").isLessThan(Duration.ofSeconds(30));

        // A task canceled while it waits in the queue never runs: it has no output.
        List<TaskDescription> slow = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            slow.add(new TaskDescription(null, null, List.of("sleep", "0.2"), Map.of(), null, null, null));
        }
        List<String> ids = tasks.submit(pilot.id(), slow);
        String last = ids.getLast();
        assertThat(ok("task", "cancel", "--session", "bad", last).out()).startsWith(last + " ");
        await().atMost(PATIENCE).until(() -> tasks.get(last).isFinal());
        assertThat(tasks.get(last).state()).isEqualTo(TaskState.CANCELED);
        Cli.Result neverRan = fabric.cli().run("task", "output", "--session", "bad", last);
        assertThat(neverRan.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(neverRan.err()).contains(last, "never ran").containsOnlyOnce("(task-not-run, HTTP 409)");

        // A wait that times out exits 9, as every wait of the CLI (the task goes on; the pilot's cancel below ends it).
        client.tasks(manager, "slow").submit(pilot.id(), new TaskDescription(null, null, List.of("sleep", "60"), Map.of(), null, null, null));
        Cli.Result unfinished = fabric.cli().run("task", "wait", "--session", "slow", "--timeout", "500ms", "--progress", "lines");
        assertThat(unfinished.exitCode()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(unfinished.err()).contains("1 of 1 tasks had not ended after 500ms");

        // A pilot that fails while --wait waits: exit 9, and its id was printed at once (a script has it).
        Cli.Result failing = fabric.cli().run("pilot", "submit", "--agents", "1", "--host", "nosuchhost", "--wait", "--timeout", "4m");
        assertThat(failing.exitCode()).as(failing.err()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(failing.out()).matches("pilot-[0-9a-f]+\n");
        assertThat(failing.err()).contains(failing.out().strip(), "FAILED");

        Cli.Result canceled = ok("pilot", "cancel", pilot.id());
        assertThat(canceled.out()).isEqualTo(pilot.id() + " CANCELED\n");
        assertThat(tasks.list().stream().collect(Collectors.groupingBy(PilotWire.Task::state, Collectors.counting())))
                .containsOnlyKeys(TaskState.DONE, TaskState.CANCELED);
        Cli.Result ended = fabric.cli().run("task", "submit", pilot.id(), "--", "true");
        assertThat(ended.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(ended.err()).containsOnlyOnce("(pilot-ended, HTTP 409)");
    }
}
