package dev.fabric.spawner.role.agent;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent role with real members (docs/roles.md, "agent"): a queue, a pubsub and agents spawned
 * by a spawner, tasks enqueued as the pilot manager enqueues them, their events read back from the
 * pubsub. Two pilots share one pubsub: pilot {@value #RERUN} (an agent with two cores and
 * rerun-policy rerun) and pilot {@value #FAIL} (one core, rerun-policy fail), each with its own queue.
 */
class AgentIT {

    static final String RERUN = "pilot-rerun";
    static final String FAIL = "pilot-fail";
    /** Five member JVMs bootstrap at once on a shared 2-core machine: minutes are allowed. */
    static final Duration PATIENCE = Duration.ofSeconds(300);

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    static final JsonMapper json = JsonMapper.builder().build();
    static String pubsubId;
    static final Map<String, String> queues = new java.util.HashMap<>();
    static final Map<String, String> agents = new java.util.HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir, "--fabric.spawner.otp-ttl=300s", "--fabric.spawner.bootstrap-timeout=300s",
                "--fabric.spawner.roles=queue,pubsub,agent");
        fabric.startSpawner();
        pubsubId = spawn("pubsub", Map.of());
        queues.put(RERUN, spawn("queue", Map.of()));
        queues.put(FAIL, spawn("queue", Map.of()));
        for (String id : List.of(pubsubId, queues.get(RERUN), queues.get(FAIL))) {
            fabric.awaitState(id, InstanceState.RUNNING, 1, PATIENCE);
        }
        agents.put(RERUN, spawn("agent", Map.of("queue", queues.get(RERUN), "pubsub", pubsubId, "pilot", RERUN, "cores", "2",
                "output-limit", "1KB")));
        agents.put(FAIL, spawn("agent", Map.of("queue", queues.get(FAIL), "pubsub", pubsubId, "pilot", FAIL, "rerun-policy", "fail")));
        for (String id : agents.values()) {
            fabric.awaitState(id, InstanceState.RUNNING, 1, PATIENCE);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (fabric != null) {
            fabric.close();
        }
    }

    @Test
    void tasksRunAndTheirEventsArriveWithTheirOutputs() {
        String pilot = RERUN;
        enqueue(pilot, task("t-echo", List.of("sh", "-c", "echo \"hello $WHO\"; pwd"), Map.of("WHO", "fabric"), "work/here", "30s"));
        enqueue(pilot, task("t-exit", List.of("sh", "-c", "echo failing >&2; exit 3"), null, null, null));
        enqueue(pilot, task("t-slow", List.of("sh", "-c", "sleep 300 & sleep 300"), null, null, "1s"));
        enqueue(pilot, task("t-big", List.of("sh", "-c", "head -c 5000 /dev/zero | tr '\\0' y"), null, null, null));
        enqueue(pilot, task("t-nocommand", null, null, null, null));
        enqueue(pilot, task("t-negative", List.of("true"), null, null, "-5s"));
        enqueue(pilot, task("t-escape", List.of("true"), null, "../../etc", null));

        Map<String, TaskEvent> finals = awaitFinals(pilot, List.of("t-echo", "t-exit", "t-slow", "t-big", "t-nocommand", "t-negative",
                "t-escape"));

        TaskEvent echo = finals.get("t-echo");
        assertThat(echo.state()).isEqualTo(TaskState.DONE);
        assertThat(echo.exitStatus()).isZero();
        assertThat(echo.agent()).isEqualTo(agents.get(pilot));
        assertThat(echo.attempt()).isEqualTo(1);
        assertThat(echo.stdout()).startsWith("hello fabric\n").contains("/t-echo/work/here");
        assertThat(echo.stdoutTruncated()).isFalse();
        assertThat(echo.duration()).isPositive();

        TaskEvent exit = finals.get("t-exit");
        assertThat(exit.state()).isEqualTo(TaskState.FAILED);
        assertThat(exit.reason()).isEqualTo(TaskEvent.REASON_EXIT_STATUS);
        assertThat(exit.exitStatus()).isEqualTo(3);
        assertThat(exit.stderr()).isEqualTo("failing\n");

        TaskEvent slow = finals.get("t-slow");
        assertThat(slow.state()).isEqualTo(TaskState.FAILED);
        assertThat(slow.reason()).isEqualTo(TaskEvent.REASON_TIME_LIMIT);

        TaskEvent big = finals.get("t-big");
        assertThat(big.stdout()).hasSize(1024);
        assertThat(big.stdoutTruncated()).isTrue();

        for (String invalid : List.of("t-nocommand", "t-negative", "t-escape")) {
            assertThat(finals.get(invalid).state()).as(invalid).isEqualTo(TaskState.FAILED);
            assertThat(finals.get(invalid).reason()).as(invalid).isEqualTo(TaskEvent.REASON_INVALID_TASK);
            assertThat(finals.get(invalid).detail()).as(invalid)
                    .isEqualTo(new TaskDescription(invalid, pilot, invalid.equals("t-nocommand") ? null : List.of("true"), null,
                            invalid.equals("t-escape") ? "../../etc" : null, invalid.equals("t-negative") ? "-5s" : null, null)
                            .invalidity().orElseThrow());
        }
        // The ones that ran were RUNNING first, in order on the topic.
        List<TaskEvent> events = events(pilot);
        for (String ran : List.of("t-echo", "t-exit", "t-slow", "t-big")) {
            List<TaskState> states = events.stream().filter(e -> e.task().equals(ran)).map(TaskEvent::state).toList();
            assertThat(states).as(ran).containsExactly(TaskState.RUNNING, finals.get(ran).state());
        }
        awaitQueueDrained(pilot);
    }

    @Test
    void aBulkOfQuickTasksIsHeldBeyondThePrefetchAndEachRunsOnce() {
        String pilot = FAIL;
        List<String> ids = java.util.stream.IntStream.range(0, 300).mapToObj(i -> "t-quick-" + i).toList();
        ResponseEntity<JsonNode> answer = endpoint(queues.get(pilot), "queue").post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("bodies", ids.stream().map(id -> json.writeValueAsString(task(id, List.of("true"), null, null, null)
                        .withPilot(pilot))).toList())).retrieve().toEntity(JsonNode.class);
        assertThat(answer.getStatusCode().is2xxSuccessful()).as("enqueue: %s", answer).isTrue();

        Map<String, TaskEvent> finals = awaitFinals(pilot, ids);

        assertThat(finals.values()).allSatisfy(event -> assertThat(event.state()).isEqualTo(TaskState.DONE));
        assertExactlyOneFinalEach(pilot, ids);
        awaitQueueDrained(pilot);
        // One core, prefetch 2: tasks of a few milliseconds let it hold far more (a 250 ms horizon of them).
        JsonNode status = agentStatus(pilot);
        assertThat(status.path("slots").asInt()).isOne();
        assertThat(status.path("averageTaskMillis").asDouble()).isPositive().isLessThan(125);
        assertThat(status.path("holdLimit").asInt()).isGreaterThan(2);
        assertThat(status.path("held").asInt()).isZero();
    }

    @Test
    void cancelsReachQueuedAndRunningTasks() {
        String pilot = RERUN;
        // Canceled before it is leased: skipped when it comes.
        publish(AgentSettings.controlTopic(pilot), "{\"cancel\": \"t-cancel-queued\"}");
        await().atMost(PATIENCE).until(() -> controlRead(pilot) >= controlOffsets(pilot));
        enqueue(pilot, task("t-cancel-queued", List.of("sh", "-c", "echo should not run"), null, null, null));
        // Canceled while running, one over the control topic, one over the agent's API.
        enqueue(pilot, task("t-cancel-topic", List.of("sh", "-c", "sleep 300"), null, null, null));
        enqueue(pilot, task("t-cancel-api", List.of("sh", "-c", "sleep 300"), null, null, null));
        await().atMost(PATIENCE).until(() -> runningHere(pilot).containsAll(List.of("t-cancel-topic", "t-cancel-api")));

        publish(AgentSettings.controlTopic(pilot), "{\"cancel\": \"t-cancel-topic\"}");
        ResponseEntity<JsonNode> canceled = agentApi(pilot).post().uri("/tasks/t-cancel-api/cancel").retrieve().toEntity(JsonNode.class);
        assertThat(canceled.getStatusCode().value()).isEqualTo(200);
        assertThat(canceled.getBody().path("was").asString()).isEqualTo("RUNNING");

        Map<String, TaskEvent> finals = awaitFinals(pilot, List.of("t-cancel-queued", "t-cancel-topic", "t-cancel-api"));
        assertThat(finals.get("t-cancel-queued").state()).isEqualTo(TaskState.CANCELED);
        assertThat(finals.get("t-cancel-queued").reason()).isEqualTo(TaskEvent.REASON_CANCELED_QUEUED);
        assertThat(events(pilot)).filteredOn(e -> e.task().equals("t-cancel-queued")).hasSize(1);
        for (String running : List.of("t-cancel-topic", "t-cancel-api")) {
            assertThat(finals.get(running).state()).as(running).isEqualTo(TaskState.CANCELED);
            assertThat(finals.get(running).reason()).as(running).isEqualTo(TaskEvent.REASON_CANCELED_RUNNING);
        }

        // A task this agent does not hold: 404 with the reason, and what to do instead.
        ResponseEntity<JsonNode> unknown = agentApi(pilot).post().uri("/tasks/t-never/cancel").retrieve().toEntity(JsonNode.class);
        assertThat(unknown.getStatusCode().value()).isEqualTo(404);
        assertThat(unknown.getBody().path("reason").asString()).isEqualTo("task-not-running");
        assertThat(unknown.getBody().path("detail").asString()).contains("/pilots/v1/tasks/t-never/cancel");
        awaitQueueDrained(pilot);
    }

    @Test
    void anAgentKilledWithSignal9RerunsWhatItWasRunning() throws Exception {
        String pilot = RERUN;
        List<String> tasks = killAgentMidTask(pilot, "k-rerun-");

        Map<String, TaskEvent> finals = awaitFinals(pilot, tasks);
        for (String task : tasks) {
            assertThat(finals.get(task).state()).as(task).isEqualTo(TaskState.DONE);
        }
        // The two that were running when the agent died ran again, as attempt 2, to a single final state.
        List<TaskEvent> events = events(pilot);
        for (String task : tasks.subList(0, 2)) {
            assertThat(events).filteredOn(e -> e.task().equals(task)).extracting(e -> e.state() + "#" + e.attempt())
                    .as(task).endsWith("RUNNING#2", "DONE#2").contains("RUNNING#1").doesNotContain("DONE#1");
            assertThat(finals.get(task).stdout()).isEqualTo("slept\n");
        }
        assertExactlyOneFinalEach(pilot, tasks);
        awaitQueueDrained(pilot);
    }

    @Test
    void anAgentKilledWithSignal9FailsWhatItWasRunningUnderTheFailPolicy() throws Exception {
        String pilot = FAIL;
        List<String> tasks = killAgentMidTask(pilot, "k-fail-");

        Map<String, TaskEvent> finals = awaitFinals(pilot, tasks);
        TaskEvent lost = finals.get(tasks.getFirst());
        assertThat(lost.state()).isEqualTo(TaskState.FAILED);
        assertThat(lost.reason()).isEqualTo(TaskEvent.REASON_AGENT_LOST);
        assertThat(lost.attempt()).isEqualTo(1);
        assertThat(events(pilot)).filteredOn(e -> e.task().equals(tasks.getFirst())).extracting(TaskEvent::attempt).containsOnly(1);
        for (String task : tasks.subList(1, tasks.size())) {
            assertThat(finals.get(task).state()).as(task).isEqualTo(TaskState.DONE);
        }
        assertExactlyOneFinalEach(pilot, tasks);
        awaitQueueDrained(pilot);
    }

    /**
     * Enqueues long tasks for every slot and quick ones behind them, kills the agent with -9 once the
     * long ones run, and waits for it to be back under its id. The long tasks come first in the list.
     */
    private static List<String> killAgentMidTask(String pilot, String prefix) throws Exception {
        String agentId = agents.get(pilot);
        int slots = pilot.equals(RERUN) ? 2 : 1;
        List<String> tasks = new ArrayList<>();
        for (int i = 0; i < slots; i++) {
            String id = prefix + "long-" + i;
            tasks.add(id);
            // The first attempt writes its pid and sleeps long: only the restarted agent's recovery can end it before the
            // test does, so the test can tell the orphan was killed. A later attempt (same sandbox) ends at once.
            enqueue(pilot, task(id, List.of("sh", "-c", "if [ -e ran ]; then echo slept; else touch ran; echo $$ > pid; sleep 600; fi"),
                    null, null, "15m"));
        }
        for (int i = 0; i < 5; i++) {
            String id = prefix + "quick-" + i;
            tasks.add(id);
            enqueue(pilot, task(id, List.of("true"), null, null, null));
        }
        List<String> longOnes = tasks.subList(0, slots);
        await().atMost(PATIENCE).until(() -> runningHere(pilot).containsAll(longOnes));
        ServiceInstance before = fabric.registry.get(agentId);
        Path sandbox = dir.resolve("spawner-data").resolve("members").resolve(agentId).resolve("data").resolve("tasks");
        await().atMost(PATIENCE).until(() -> longOnes.stream().allMatch(t -> Files.exists(sandbox.resolve(t).resolve("pid"))));
        List<Long> orphans = longOnes.stream().map(t -> {
            try {
                return Long.parseLong(Files.readString(sandbox.resolve(t).resolve("pid")).strip());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toList();

        ProcessHandle.of(Long.parseLong(before.metadata().get("pid"))).orElseThrow().destroyForcibly();

        fabric.awaitState(agentId, InstanceState.RUNNING, before.incarnation() + 1, PATIENCE);
        // The restarted agent killed what its previous incarnation had left running.
        await().atMost(PATIENCE).untilAsserted(() -> assertThat(orphans)
                .allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("orphan %d", pid).isEmpty()));
        return tasks;
    }

    private static void assertExactlyOneFinalEach(String pilot, List<String> tasks) {
        Map<String, Long> finalsPerTask = events(pilot).stream().filter(TaskEvent::isFinal).filter(e -> tasks.contains(e.task()))
                .collect(Collectors.groupingBy(TaskEvent::task, Collectors.counting()));
        assertThat(finalsPerTask).as("final events per task").hasSize(tasks.size()).allSatisfy((task, count) -> assertThat(count).isOne());
    }

    // ---- the members, as a pilot manager drives them

    static String spawn(String type, Map<String, String> config) {
        String id = fabric.spawn(Map.of("type", type, "config", config));
        return id;
    }

    static RestClient endpoint(String memberId, String endpoint) {
        return fabric.signedClient(fabric.registry.get(memberId).endpoints().get(endpoint));
    }

    static RestClient agentApi(String pilot) {
        return endpoint(agents.get(pilot), "agent");
    }

    static TaskDescription task(String id, List<String> command, Map<String, String> environment, String workingDirectory, String limit) {
        return new TaskDescription(id, null, command, environment, workingDirectory, limit, null);
    }

    static void enqueue(String pilot, TaskDescription task) {
        ResponseEntity<JsonNode> answer = endpoint(queues.get(pilot), "queue").post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", json.writeValueAsString(task.withPilot(pilot)))).retrieve().toEntity(JsonNode.class);
        assertThat(answer.getStatusCode().is2xxSuccessful()).as("enqueue %s: %s", task.id(), answer).isTrue();
    }

    static void publish(String topic, String body) {
        ResponseEntity<JsonNode> answer = endpoint(pubsubId, "pubsub").post().uri("/topics/{topic}/messages", topic)
                .contentType(MediaType.APPLICATION_JSON).body(Map.of("body", body)).retrieve().toEntity(JsonNode.class);
        assertThat(answer.getStatusCode().value()).as("publish on %s: %s", topic, answer).isEqualTo(200);
    }

    static long controlOffsets(String pilot) {
        return messages(AgentSettings.controlTopic(pilot)).size();
    }

    /** Every event on the pilot's events topic, in order. */
    static List<TaskEvent> events(String pilot) {
        return messages(AgentSettings.eventsTopic(pilot)).stream().map(body -> json.readValue(body, TaskEvent.class)).toList();
    }

    static List<String> messages(String topic) {
        List<String> bodies = new ArrayList<>();
        long from = 0;
        while (true) {
            ResponseEntity<JsonNode> page = endpoint(pubsubId, "pubsub").get().uri("/topics/{topic}/messages?from={from}&max=1000", topic, from)
                    .accept(MediaType.APPLICATION_JSON).retrieve().toEntity(JsonNode.class);
            if (page.getStatusCode().value() == 404) {
                return bodies;
            }
            assertThat(page.getStatusCode().value()).as("read %s: %s", topic, page).isEqualTo(200);
            JsonNode messages = page.getBody().path("messages");
            if (messages.isEmpty()) {
                return bodies;
            }
            messages.forEach(m -> bodies.add(m.path("body").asString()));
            from = page.getBody().path("next").asLong();
        }
    }

    /** The first final event of each task, once every one has one. */
    static Map<String, TaskEvent> awaitFinals(String pilot, List<String> tasks) {
        Map<String, TaskEvent> finals = new java.util.HashMap<>();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(300)).until(() -> {
            finals.clear();
            events(pilot).stream().filter(TaskEvent::isFinal).filter(e -> tasks.contains(e.task()))
                    .forEach(e -> finals.putIfAbsent(e.task(), e));
            return finals.keySet().containsAll(tasks);
        });
        return finals;
    }

    /** How far the agent has read its control topic (its status's {@code controlNext}). */
    static long controlRead(String pilot) {
        return agentStatus(pilot).path("controlNext").asLong(-1);
    }

    /** The agent role's part of the member's status. */
    static JsonNode agentStatus(String pilot) {
        JsonNode status = endpoint(agents.get(pilot), "management").get().uri("/management/v1/status").retrieve().body(JsonNode.class);
        return status.findParent("controlNext");
    }

    static List<String> runningHere(String pilot) {
        ResponseEntity<JsonNode> answer = agentApi(pilot).get().uri("/tasks").retrieve().toEntity(JsonNode.class);
        if (!answer.getStatusCode().is2xxSuccessful()) {
            return List.of();
        }
        List<String> ids = new ArrayList<>();
        answer.getBody().path("tasks").forEach(t -> ids.add(t.path("task").asString()));
        return ids;
    }

    /** Nothing left in the pilot's queue, nothing leased: every lease was acknowledged. */
    static void awaitQueueDrained(String pilot) {
        Predicate<JsonNode> drained = stats -> stats.path("ready").asLong() == 0 && stats.path("leased").asLong() == 0;
        await().atMost(PATIENCE).until(() -> drained.test(endpoint(queues.get(pilot), "queue").get().uri("/stats").retrieve()
                .body(JsonNode.class)));
    }

}
