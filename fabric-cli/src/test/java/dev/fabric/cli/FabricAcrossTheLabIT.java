package dev.fabric.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.ExecResult;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.Reach;
import dev.fabric.testsupport.RequiresNetworkLab;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The fabric across the network lab (docs/lab.md), as a user would run it on separate machines: the
 * registry (embedded H2, as {@code ./fabric up} runs it) on {@code public}, a spawner on {@code head}
 * behind gateway in mode 3, the {@code fabric} CLI on {@code gateway} and {@code desktop}. Nothing of
 * the fabric runs in the test's own network namespace, which reaches no lab host.
 */
@RequiresNetworkLab
class FabricAcrossTheLabIT {

    private static final int REGISTRY_PORT = 8470;
    private static final int SPAWNER_PORT = 8472;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;

    /** A failure keeps the fabric's logs in target/lab-logs/ and prints their ends, before the directory goes. */
    @RegisterExtension
    static final LabFabric.KeepLogsOnFailure keepLogs = new LabFabric.KeepLogsOnFailure(() -> dir);

    private static LabFabric fabric;
    private static String registryUrl;
    private static String spawnerUrl;
    private static String desktopSpawnerUrl;

    @BeforeAll
    static void fabric(NetworkLab lab) throws Exception {
        fabric = LabFabric.start(lab, dir, REGISTRY_PORT);
        registryUrl = fabric.registryUrl();

        // head: behind gateway, and in mode 3 (firewall from the service): it may open connections to
        // the registry's host only. The spawner listens on every address of head; gateway reaches it
        // at head's site address, which it advertises.
        lab.setMode(Host.HEAD, Mode.FIREWALL_FROM_SERVICE);
        spawnerUrl = "http://" + lab.address(Host.HEAD, Host.GATEWAY) + ":" + SPAWNER_PORT;
        fabric.startSpawner(Host.HEAD, "head", SPAWNER_PORT, spawnerUrl, List.of());

        // desktop: a spawner that places members on gateway over SSH, through gateway's OpenSSH server,
        // with the lab's key and known-hosts file; the distribution is staged into gateway's own directory.
        desktopSpawnerUrl = "http://" + lab.address(Host.DESKTOP) + ":" + SPAWNER_PORT;
        NetworkLab.Ssh ssh = lab.ssh();
        String gateway = "-Dfabric.spawner.ssh.hosts.gateway.";
        fabric.startSpawner(Host.DESKTOP, "desktop", SPAWNER_PORT, desktopSpawnerUrl, List.of(
                gateway + "address=" + lab.address(Host.GATEWAY, Host.DESKTOP),
                gateway + "user=" + ssh.user(),
                gateway + "identity=" + ssh.privateKey(),
                gateway + "known-hosts=" + ssh.knownHosts(),
                gateway + "java=" + NetworkLab.javaCommand().getFirst(),
                gateway + "directory=" + dir.resolve("gateway-fabric")));

        fabric.awaitReady(Host.HEAD, spawnerUrl, "spawner-head.log");
        fabric.awaitReady(Host.DESKTOP, desktopSpawnerUrl, "spawner-desktop.log");
    }

    @Test
    void theDesktopSpawnsAQueueOnGatewayOverSshAndUsesItThroughTheFirewall(NetworkLab lab) throws Exception {
        // gateway in mode 3: its members may open connections to the registry's host only, so the spawner
        // dials the member (the seed's "spawner: connect, spawnee: listen").
        lab.setMode(Host.GATEWAY, Mode.FIREWALL_FROM_SERVICE);
        try {
            assertThat(lab.probe(Host.GATEWAY, Host.DESKTOP, SPAWNER_PORT)).as("gateway cannot call the spawner back").isEqualTo(Reach.TIMEOUT);
            assertThat(lab.probe(Host.GATEWAY, Host.PUBLIC, REGISTRY_PORT)).isEqualTo(Reach.OPEN);

            ExecResult spawn = lab.exec(Host.DESKTOP, cli(List.of("--registry", registryUrl, "--keys", dir.resolve("keys").toString(),
                    "spawn", "queue", "--host", "gateway", "--connectivity", "firewall-from-service",
                    "--spawner", desktopSpawnerUrl, "--wait", "--timeout", "4m")));
            assertThat(spawn.exitCode()).as("fabric spawn --host gateway: %s\n%s", spawn.stderr(), log("spawner-desktop.log")).isZero();
            String id = spawn.stdout().strip().lines().reduce((first, last) -> last).orElseThrow();

            JsonNode member = service(lab, Host.DESKTOP, id).path("instance");
            assertThat(member.path("state").asString()).isEqualTo("RUNNING");
            assertThat(member.path("metadata").path("launcher").asString()).isEqualTo("ssh");
            assertThat(member.path("metadata").path("host").asString()).isEqualTo("gateway");
            long pid = Long.parseLong(member.path("metadata").path("pid").asString());
            assertThat(lab.exec(Host.DESKTOP, "ip", "netns", "identify", Long.toString(pid)).stdout().strip())
                    .as("the member's process runs on gateway, started by gateway's sshd").isEqualTo(lab.namespace(Host.GATEWAY));
            assertThat(member.path("endpoints").path("queue").asString()).startsWith("http://" + lab.address(Host.GATEWAY) + ":");

            // The desktop's CLI puts and takes messages on the queue on gateway, signed end to end.
            ExecResult put = lab.exec(Host.DESKTOP, cli(List.of("--registry", registryUrl, "--keys", dir.resolve("keys").toString(),
                    "queue", "put", id, "render frame 1")));
            assertThat(put.ok()).as(put.stderr()).isTrue();
            ExecResult take = lab.exec(Host.DESKTOP, cli(List.of("--registry", registryUrl, "--keys", dir.resolve("keys").toString(),
                    "queue", "take", id, "-o", "json")));
            assertThat(take.ok()).as(take.stderr()).isTrue();
            assertThat(JSON.readTree(take.stdout()).path("messages").get(0).path("body").asString()).isEqualTo("render frame 1");
        } finally {
            lab.setMode(Host.GATEWAY, Mode.OPEN);
        }
    }

    @Test
    void aMemberSpawnedOnHeadRegistersAndHeartbeatsThroughGateway(NetworkLab lab) throws Exception {
        // The firewall, not the test, decides what is possible: head opens nothing but the registry's host...
        assertThat(lab.probe(Host.HEAD, Host.GATEWAY, SPAWNER_PORT)).as("head in mode 3 opens no connection to gateway").isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.HEAD, Host.PUBLIC, REGISTRY_PORT)).isEqualTo(Reach.OPEN);
        // ...and only gateway reaches head: the registry's host and the desktop do not.
        assertThat(lab.probe(Host.PUBLIC, Host.HEAD, SPAWNER_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.DESKTOP, Host.HEAD, SPAWNER_PORT)).isEqualTo(Reach.UNREACHABLE);

        ExecResult spawn = lab.exec(Host.GATEWAY, cli(List.of("--registry", registryUrl, "--keys", dir.resolve("keys").toString(),
                "spawn", "queue", "--spawner", spawnerUrl, "--wait", "--timeout", "3m")));
        assertThat(spawn.exitCode()).as("fabric spawn on gateway: %s\n%s", spawn.stderr(), log("spawner-head.log")).isZero();
        String id = spawn.stdout().strip().lines().reduce((first, last) -> last).orElseThrow();

        JsonNode first = service(lab, Host.DESKTOP, id);
        assertThat(first.path("instance").path("state").asString()).isEqualTo("RUNNING");
        long pid = Long.parseLong(first.path("instance").path("metadata").path("pid").asString());
        ExecResult where = lab.exec(Host.DESKTOP, "ip", "netns", "identify", Long.toString(pid));
        assertThat(where.stdout().strip()).as("the member's process runs on head").isEqualTo(lab.namespace(Host.HEAD));

        // Its heartbeats keep arriving at the registry, which only gateway's forwarding lets head reach.
        Instant beat = Instant.parse(first.path("instance").path("lastHeartbeatAt").asString());
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        Instant later = beat;
        while (!later.isAfter(beat) && Instant.now().isBefore(deadline)) {
            Thread.sleep(500);
            later = Instant.parse(service(lab, Host.DESKTOP, id).path("instance").path("lastHeartbeatAt").asString());
        }
        assertThat(later).as("a later heartbeat of %s reached the registry", id).isAfter(beat);
        assertThat(service(lab, Host.DESKTOP, id).path("instance").path("state").asString()).isEqualTo("RUNNING");
    }

    @Test
    void aLinkCutLongerThanTheDeadThresholdLeavesOneIncarnationRunningAndNoMessageLost(NetworkLab lab) throws Exception {
        String keys = dir.resolve("keys").toString();
        ExecResult spawn = lab.exec(Host.GATEWAY, cli(List.of("--registry", registryUrl, "--keys", keys,
                "spawn", "queue", "--spawner", spawnerUrl, "--wait", "--timeout", "3m")));
        assertThat(spawn.exitCode()).as("fabric spawn on gateway: %s", spawn.stderr()).isZero();
        String id = spawn.stdout().strip().lines().reduce((first, last) -> last).orElseThrow();
        // The queue is reached on head's loopback only: its messages go in and out on head itself.
        ExecResult put = lab.exec(Host.HEAD, cli(List.of("--registry", registryUrl, "--keys", keys, "queue", "put", id, "before the cut")));
        assertThat(put.ok()).as(put.stderr()).isTrue();

        lab.cut(Host.GATEWAY, Host.HEAD);
        try {
            // head's heartbeats no longer reach the registry, which declares the member DEAD.
            awaitState(lab, id, "DEAD", Duration.ofSeconds(120));
        } finally {
            lab.restore(Host.GATEWAY, Host.HEAD);
        }

        JsonNode running = awaitState(lab, id, "RUNNING", Duration.ofSeconds(240));
        assertThat(membersOnHead(lab, id)).as("one process of %s on head", id).hasSize(1);
        assertThat(running.path("metadata").path("pid").asString()).isEqualTo(membersOnHead(lab, id).getFirst());
        ExecResult take = lab.exec(Host.HEAD, cli(List.of("--registry", registryUrl, "--keys", keys, "queue", "take", id, "-o", "json")));
        assertThat(take.ok()).as(take.stderr()).isTrue();
        assertThat(JSON.readTree(take.stdout()).path("messages").get(0).path("body").asString()).isEqualTo("before the cut");
    }

    private static JsonNode awaitState(NetworkLab lab, String id, String state, Duration patience) throws InterruptedException {
        Instant deadline = Instant.now().plus(patience);
        JsonNode instance = service(lab, Host.DESKTOP, id).path("instance");
        while (!instance.path("state").asString().equals(state)) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(id + " is " + instance.path("state").asString() + ", not " + state + " after " + patience
                        + "; history: " + service(lab, Host.DESKTOP, id).path("history") + "\nspawner log:\n" + log("spawner-head.log"));
            }
            Thread.sleep(1000);
            instance = service(lab, Host.DESKTOP, id).path("instance");
        }
        return instance;
    }

    /** The pids of the processes inside head that run member {@code id}. */
    private static List<String> membersOnHead(NetworkLab lab, String id) {
        List<String> pids = new ArrayList<>();
        for (String pid : lab.exec(Host.DESKTOP, "ip", "netns", "pids", lab.namespace(Host.HEAD)).stdout().strip().split("\\s+")) {
            try {
                // The argument itself, as the member's JVM has it: not a command line that merely mentions it.
                if (List.of(Files.readString(Path.of("/proc", pid, "cmdline")).split("\0")).contains("-Dfabric.member.id=" + id)) {
                    pids.add(pid);
                }
            } catch (IOException ended) {
                // gone meanwhile
            }
        }
        return pids;
    }

    @Test
    void behindModeTwoTheSpawnerOnHeadCannotBeCalled(NetworkLab lab) {
        lab.setMode(Host.HEAD, Mode.FIREWALL_BOTH);
        try {
            ExecResult spawn = lab.exec(Host.GATEWAY, cli(List.of("--registry", registryUrl, "--keys", dir.resolve("keys").toString(),
                    "spawn", "queue", "--spawner", spawnerUrl)));

            assertThat(spawn.exitCode()).as("unreachable: %s", spawn.stderr()).isEqualTo(5);
            assertThat(spawn.stderr()).contains("cannot reach the spawner at " + spawnerUrl);
        } finally {
            lab.setMode(Host.HEAD, Mode.FIREWALL_FROM_SERVICE);
        }
    }

    private static JsonNode service(NetworkLab lab, Host from, String id) {
        ExecResult result = fabric.run(from, "service", id, "-o", "json");
        assertThat(result.ok()).as("fabric service %s on %s: %s", id, from, result.stderr()).isTrue();
        return JSON.readTree(result.stdout());
    }

    /** {@code fabric} with the given arguments as they are (the registry and keys among them). */
    private static String[] cli(List<String> arguments) {
        return fabric.cli(arguments);
    }

    private static String log(String name) {
        return fabric.log(name);
    }
}
