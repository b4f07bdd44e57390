package dev.fabric.spawner.client;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.FabricConnection;
import dev.fabric.core.client.MemberLostException;
import dev.fabric.core.client.Reconnection;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.StateTransition;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClientResponseException;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@link FabricClient} against a real fabric (the registry, the spawner jar as a process, its
 * members as processes): a calling entity brings a dead member back under its id, learns that a
 * lost one is gone, and an application that failed over finds its session's members again.
 */
class FabricClientIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;

    /** The members a test spawned, stopped after it so the next one has the machine's cores. */
    private final List<String> spawned = new ArrayList<>();
    /** The clients a test made, closed after it. */
    private final List<FabricClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir);
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        if (fabric != null) {
            fabric.close();
        }
    }

    @AfterEach
    void stopMembers() {
        clients.forEach(FabricClient::close);
        for (String id : spawned) {
            fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
        }
    }

    private FabricClient client(String name, Duration requestTimeout) {
        // A JVM start and a bootstrap on a busy 2-core machine: generous, the test does not measure it.
        FabricClient client = FabricClient.builder(URI.create(fabric.registryUrl), fabric.keys).name(name)
                .requestTimeout(requestTimeout).restartTimeout(Duration.ofMinutes(3)).build();
        clients.add(client);
        return client;
    }

    private ServiceInstance spawnRunningQueue() throws InterruptedException {
        String id = fabric.spawn(Map.of("type", "queue"));
        spawned.add(id);
        return fabric.awaitState(id, InstanceState.RUNNING, 1);
    }

    private static long pidOf(ServiceInstance member) {
        return Long.parseLong(member.metadata().get("pid"));
    }

    private static void kill(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %d", signal, pid).isTrue();
    }

    /** Waits until the member has just heartbeated, so that the registry's detector is as far as it can be from a verdict. */
    private static void awaitFreshHeartbeat(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            ServiceInstance now = fabric.registry.get(id);
            if (now.lastHeartbeatAt() != null && Duration.between(now.lastHeartbeatAt(), Instant.now()).toMillis() < 300) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("member " + id + " did not heartbeat within 30 s: " + fabric.registry.get(id));
    }

    private static JsonNode status(FabricClient client, String id) {
        return client.call(id, (rest, url) -> rest.get().uri("/management/v1/status").retrieve().body(JsonNode.class));
    }

    @Test
    void aMemberKilledWithSignal9IsCalledAgainUnderItsIdWithItsState() throws Exception {
        FabricClient client = client("it-kill-9", Duration.ofSeconds(10));
        ServiceInstance before = spawnRunningQueue();
        client.call(before.id(), "queue", (rest, url) -> rest.post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", "survives kill -9")).retrieve().toBodilessEntity());

        kill(pidOf(before), "9");
        // Right away: the call meets a closed port, and the client waits for (or asks for) the restart.
        JsonNode status = status(client, before.id());

        assertThat(status.path("id").asString()).isEqualTo(before.id());
        assertThat(status.path("incarnation").asLong()).isGreaterThan(before.incarnation());
        assertThat(status.path("phase").asString()).isEqualTo("RUNNING");
        ServiceInstance after = fabric.registry.get(before.id());
        assertThat(after.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(after.incarnation()).isEqualTo(status.path("incarnation").asLong());
        assertThat(pidOf(after)).isNotEqualTo(pidOf(before));
        JsonNode stats = client.call(before.id(), "queue", (rest, url) -> rest.get().uri("/stats").retrieve().body(JsonNode.class));
        assertThat(stats.path("ready").asInt()).as("the message enqueued before the kill").isEqualTo(1);
    }

    @Test
    void aHungMemberIsReportedUnreachableAndRestartedThroughItsSpawner() throws Exception {
        // SIGSTOP: the process lives on, so its spawner sees no exit; only a caller notices that it does not answer.
        // A call gives up after 1 s, well before the registry's detector (suspect after 3 s, dead after 5 s without a
        // heartbeat) would notice: the registry still shows it RUNNING when the client asks, so the client reports it.
        FabricClient client = client("it-hung-caller", Duration.ofSeconds(1));
        ServiceInstance before = spawnRunningQueue();
        awaitFreshHeartbeat(before.id());
        kill(pidOf(before), "STOP");
        try {
            JsonNode status = status(client, before.id());

            assertThat(status.path("id").asString()).isEqualTo(before.id());
            assertThat(status.path("incarnation").asLong()).isGreaterThan(before.incarnation());
        } finally {
            // The spawner kills the old incarnation when it restarts it; should the test fail before, do not leave it frozen.
            ProcessHandle.of(pidOf(before)).ifPresent(ProcessHandle::destroyForcibly);
        }
        List<String> history = fabric.registry.history(before.id()).stream()
                .map(StateTransition::reason).toList();
        assertThat(history).anySatisfy(reason -> assertThat(reason).startsWith("reported unreachable by it-hung-caller"));
        assertThat(history).anySatisfy(reason -> assertThat(reason).contains("restart requested"));
    }

    @Test
    void aMemberWhoseStateIsGoneRaisesMemberLostException() throws Exception {
        FabricClient client = client("it-lost", Duration.ofSeconds(10));
        ServiceInstance before = spawnRunningQueue();
        Path journal = fabric.dir.resolve("spawner-data").resolve("members").resolve(before.id()).resolve("data").resolve("queue.journal");
        assertThat(journal).exists();
        // The member's data directory is wiped while it runs, then it dies: its restart cannot pick up its state.
        Files.delete(journal);
        kill(pidOf(before), "9");

        MemberLostException lost = catchThrowableOfType(MemberLostException.class, () -> status(client, before.id()));

        assertThat(lost).as("the call raises MemberLostException").isNotNull();
        assertThat(lost.memberId()).isEqualTo(before.id());
        assertThat(lost.reason()).contains("could not recover its state");
        assertThat(lost).hasMessageContaining("member " + before.id() + " is LOST").hasMessageContaining("state is gone");
        assertThat(fabric.registry.get(before.id()).state()).isEqualTo(InstanceState.LOST);
    }

    @Test
    void anApplicationThatFailedOverReconnectsToItsSessionsMembers() throws Exception {
        ServiceInstance first = spawnRunningQueue();
        ServiceInstance second = spawnRunningQueue();
        FabricClient application = client("it-application", Duration.ofSeconds(10));
        for (ServiceInstance member : List.of(first, second)) {
            Integer status = application.call(member.id(), (rest, url) -> rest.put().uri("/management/v1/sessions/{s}", "s-app")
                    .retrieve().toBodilessEntity().getStatusCode().value());
            assertThat(status).isEqualTo(201);
        }
        // A session the member does not serve is not found: a final answer, not a passing registry failure to retry.
        RestClientResponseException notServed = catchThrowableOfType(RestClientResponseException.class, () -> application.call(
                first.id(), (rest, url) -> rest.delete().uri("/management/v1/sessions/{s}", "s-none").retrieve().toBodilessEntity()));
        assertThat(notServed).as("DELETE of a session the member does not serve").isNotNull();
        assertThat(notServed.getStatusCode().value()).isEqualTo(404);
        assertThat(notServed.getResponseHeaders().getFirst("Retry-After")).isNull();
        assertThat(notServed.getResponseBodyAsString()).contains("\"reason\":\"unknown-session\"", "serves no session 's-none'");
        Path stateFile = dir.resolve("application").resolve("fabric-connection.json");
        new FabricConnection(URI.create(fabric.registryUrl), fabric.keyDir, List.of("s-app", "s-empty")).save(stateFile);

        // The application fails over: a new process knows nothing but its state file.
        Reconnection reconnection = FabricClient.reconnect(FabricConnection.load(stateFile));
        clients.add(reconnection.client());

        assertThat(reconnection.connected()).extracting(Reconnection.Connected::id).containsExactlyInAnyOrder(first.id(), second.id());
        assertThat(reconnection.connected()).allSatisfy(connected -> {
            assertThat(connected.session()).isEqualTo("s-app");
            assertThat(connected.role()).isEqualTo("queue");
            assertThat(connected.endpoints()).containsKeys("management", "queue");
        });
        assertThat(reconnection.complete()).isFalse();
        assertThat(reconnection.failed()).singleElement()
                .satisfies(failure -> assertThat(failure.describe()).contains("session s-empty", "no member serves session s-empty"));
    }
}
