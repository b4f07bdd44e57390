package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.StateTransition;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fabric over SSH (docs/spawner.md, "The SSH launcher"): a spawner whose members are placed on
 * a host reached through a real OpenSSH server on loopback. A member runs there, is restarted under
 * its id after kill -9, is re-adopted (not duplicated) by a restarted spawner, and stops; every
 * fault of reaching or preparing a host is a FAILED member with its reason in its history.
 */
class SshSpawnIT {

    @TempDir
    static Path dir;

    static Sshd sshd;
    static FabricUnderTest fabric;
    static int closedPort;

    @BeforeAll
    static void start() throws Exception {
        Sshd.assumeAvailable();
        sshd = new Sshd(dir.resolve("sshd"));
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        // The first launch on a host copies the distribution first: FabricUnderTest's 180 s bootstrap leaves room for it.
        List<String> properties = new ArrayList<>(List.of("--fabric.spawner.ssh.liveness-interval=500ms"));
        properties.addAll(sshd.hostProperties("loop"));
        properties.addAll(sshd.hostProperties("wrong-key", "identity", sshd.wrongKey.toString()));
        properties.addAll(sshd.hostProperties("unknown-key", "known-hosts", sshd.emptyKnownHosts.toString()));
        properties.addAll(sshd.hostProperties("closed", "port", Integer.toString(closedPort)));
        properties.addAll(sshd.hostProperties("no-java", "java", dir.resolve("no-jdk/bin/java").toString()));
        properties.addAll(sshd.hostProperties("bad-copy", "directory", dir.resolve("bad-copy").toString()));
        fabric = new FabricUnderTest(dir.resolve("fabric"), properties.toArray(String[]::new));
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        if (fabric != null) {
            fabric.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    /** The spawner's answer to a spawn on {@code host}, whatever its status. */
    static JsonNode answerToSpawnOn(String host) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "queue");
        body.put("host", host);
        return fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().body(JsonNode.class);
    }

    static long pidOf(String id) {
        return Long.parseLong(fabric.registry.get(id).metadata().get("pid"));
    }

    static List<String> history(String id) {
        return fabric.registry.history(id).stream().map(t -> t.to() + ": " + t.reason()).toList();
    }

    static ServiceInstance awaitRunning(String id, long incarnation) throws InterruptedException {
        try {
            return fabric.awaitState(id, InstanceState.RUNNING, incarnation);
        } catch (AssertionError e) {
            Path log = sshd.remoteDirectory().resolve("members").resolve(id).resolve("member.log");
            throw new AssertionError(e.getMessage() + "\nremote member log:\n" + FabricUnderTest.log(log), e);
        }
    }

    @Test
    void aMemberPlacedOnAHostRunsThereAndComesBackUnderItsIdAfterKill9() throws Exception {
        String id = fabric.spawn(Map.of("type", "queue", "host", "loop"));
        ServiceInstance running = awaitRunning(id, 1);
        assertThat(running.metadata()).containsEntry("launcher", "ssh").containsEntry("host", "loop")
                .containsEntry("log", sshd.remoteDirectory().resolve("members").resolve(id).resolve("member.log").toString());
        assertThat(history(id)).anyMatch(s -> s.startsWith("BOOTSTRAPPING: launched by the ssh launcher (host loop, pid "));
        // Started with MemberJvm's options, Spring's AOT mode among them, from the staged self-contained jar.
        assertThat(FabricUnderTest.log(sshd.remoteDirectory().resolve("members").resolve(id).resolve("member.log")))
                .contains("Starting AOT-processed SpawnerApplication");
        RestClient queue = fabric.signedClient(running.endpoints().get("queue"));
        for (String body : List.of("render frame 1", "render frame 2")) {
            assertThat(queue.post().uri("/messages").contentType(MediaType.APPLICATION_JSON).body(Map.of("body", body))
                    .retrieve().toBodilessEntity().getStatusCode().is2xxSuccessful()).isTrue();
        }
        long pid = pidOf(id);
        // The member's data and log are on its host, under the host's fabric directory.
        assertThat(sshd.remoteDirectory().resolve("members").resolve(id).resolve("data").resolve("queue.journal")).exists();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        ServiceInstance restarted = awaitRunning(id, 2);
        assertThat(restarted.metadata()).containsEntry("host", "loop");
        assertThat(pidOf(id)).isNotEqualTo(pid);
        assertThat(history(id)).contains("DEAD: its process killed by signal 9 (SIGKILL on host loop)");
        JsonNode leased = fabric.signedClient(restarted.endpoints().get("queue")).post().uri("/leases?max=10").retrieve()
                .body(JsonNode.class).path("messages");
        List<String> bodies = new ArrayList<>();
        leased.forEach(m -> bodies.add(m.path("body").asString()));
        assertThat(bodies).containsExactlyInAnyOrder("render frame 1", "render frame 2");
    }

    @Test
    void aRestartedSpawnerReadoptsItsRemoteMemberWithoutADuplicateAndStopsIt() throws Exception {
        String id = fabric.spawn(Map.of("type", "queue", "host", "loop"));
        ServiceInstance before = awaitRunning(id, 1);
        long pid = pidOf(id);
        int members = fabric.registry.list(null, null, before.parentId(), null).instances().size();
        long onHost = sshd.members().size();

        fabric.killSpawner();
        fabric.startSpawner();

        ServiceInstance after = fabric.registry.get(id);
        assertThat(after.incarnation()).isEqualTo(1);
        assertThat(after.state()).isEqualTo(InstanceState.RUNNING);
        assertThat(pidOf(id)).isEqualTo(pid);
        assertThat(fabric.registry.list(null, null, before.parentId(), null).instances()).hasSize(members);
        assertThat(sshd.members()).hasSize((int) onHost);
        assertThat(FabricUnderTest.log(fabric.spawnerLog())).contains("member " + id + " incarnation 1: adopted pid " + pid + " on host loop");

        assertThat(fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity()
                .getStatusCode().value()).isEqualTo(204);
        assertThat(fabric.registry.get(id).state()).isEqualTo(InstanceState.STOPPED);
        assertThat(runs(pid)).isFalse();
    }

    /**
     * Whether {@code pid} runs. A member adopted after its spawner died was left by that spawner's SSH
     * session to whichever process reaps orphans here; until reaped it is a zombie: ended.
     */
    static boolean runs(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    /**
     * A member the spawner starts itself runs the spawner's jar: here, as under {@code ./fabric up}, the
     * one extracted for the AOT cache (FabricUnderTest), which cannot be staged. It inherits the
     * distribution its spawner stages, and a member it places on a host runs.
     */
    @Test
    void aMemberTheSpawnerStartedItselfPlacesItsOwnMemberOnAHost() throws Exception {
        ServiceInstance parent = fabric.awaitState(fabric.spawn(Map.of("type", "queue")), InstanceState.RUNNING, 1);
        assertThat(FabricUnderTest.environmentOf(pidOf(parent.id())))
                .containsEntry(SshLauncher.INHERITED_DISTRIBUTION, FabricUnderTest.SPAWNER_JAR.toString());

        JsonNode placed = fabric.signedClient(parent.endpoints().get("management")).post().uri("/api/v1/spawns")
                .contentType(MediaType.APPLICATION_JSON).body(Map.of("type", "queue", "host", "loop")).retrieve().body(JsonNode.class);
        ServiceInstance running = awaitRunning(placed.path("id").asString(), 1);

        assertThat(running.parentId()).isEqualTo(parent.id());
        assertThat(running.metadata()).containsEntry("launcher", "ssh").containsEntry("host", "loop");
        assertThat(FabricUnderTest.environmentOf(pidOf(running.id()))).doesNotContainKey(SshLauncher.INHERITED_DISTRIBUTION);
    }

    @Test
    void aHostThatIsNotConfiguredIsRefusedWithItsReason() {
        JsonNode refused = answerToSpawnOn("nowhere");
        assertThat(refused.path("status").asInt()).isEqualTo(400);
        assertThat(refused.path("reason").asString()).isEqualTo("unknown-host");
        assertThat(refused.path("detail").asString()).contains("no host 'nowhere'").contains("loop");
    }

    @Test
    void everyFaultOfReachingOrPreparingAHostIsAFailedMemberWithItsReason() throws Exception {
        assertFailed("wrong-key", "SSH authentication refused by host wrong-key for root@127.0.0.1:" + sshd.port
                + " with the key " + sshd.wrongKey);
        assertFailed("unknown-key", "unknown host key: host unknown-key", "host-key-policy is strict");
        assertFailed("closed", "host closed unreachable: connection refused at 127.0.0.1:" + closedPort);
        assertFailed("no-java", "no Java on host no-java: '" + dir.resolve("no-jdk/bin/java") + " -version' failed");

        // A copy that does not arrive intact: the staging file is a link to /dev/null, which swallows every byte.
        String jar = "spawner-service-" + Staging.sha256(FabricUnderTest.SPAWNER_JAR).substring(0, 16) + ".jar";
        Path dist = dir.resolve("bad-copy").resolve("dist");
        Files.createDirectories(dist);
        Files.createSymbolicLink(dist.resolve(jar + ".part"), Path.of("/dev/null"));
        assertFailed("bad-copy", "staging failed on host bad-copy: checksum mismatch after copying");
        assertThat(dist.resolve(jar)).doesNotExist();
        assertThat(dist.resolve(jar + ".part")).doesNotExist();
    }

    /** Spawns on {@code host}: the answer is a 502 and the member is FAILED, its history saying why. */
    static void assertFailed(String host, String... reasons) {
        JsonNode answer = answerToSpawnOn(host);
        assertThat(answer.path("status").asInt()).as(answer.toString()).isEqualTo(502);
        assertThat(answer.path("reason").asString()).isEqualTo("launch-failed");
        assertThat(answer.path("detail").asString()).contains(reasons);
        String id = answer.path("detail").asString().split(" ", 3)[1];
        ServiceInstance failed = fabric.registry.get(id);
        assertThat(failed.state()).isEqualTo(InstanceState.FAILED);
        assertThat(failed.metadata()).containsEntry("host", host);
        assertThat(fabric.registry.history(id)).extracting(StateTransition::reason)
                .anyMatch(r -> r.startsWith("launch failed: ") && java.util.Arrays.stream(reasons).allMatch(r::contains));
    }
}
