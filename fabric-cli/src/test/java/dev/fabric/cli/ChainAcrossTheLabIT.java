package dev.fabric.cli;

import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.ExecResult;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.Reach;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The seed's chain, desktop -> gateway -> head node -> compute node, in the network lab (docs/lab.md,
 * "The whole chain"): the root spawner on {@code desktop} places a member on {@code gateway} over SSH
 * (mode 1); that member places one on {@code head} over SSH (mode 3, reached through gateway's
 * bridge); that one places a queue on {@code compute-1} over SSH (mode 2, reached through head's
 * bridge, which is reached through gateway's: a bridge chain). Every spawn after the first goes from
 * the desktop's CLI to a member ({@code fabric spawn --parent}); gateway's member is itself the site's
 * bridge, head's spawns head's bridge. The desktop's CLI then uses the queue
 * on compute-1, which it has no route to. Each mode is proven by the firewall.
 *
 * <p>On the same chain (built once: it is the expensive part), issue 16's case: a pilot manager on
 * head places a pilot's agents on compute-1 and compute-2, and tasks the desktop submits run there.
 */
@RequiresNetworkLab
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChainAcrossTheLabIT {

    private static final int REGISTRY_PORT = 19100;
    private static final int SPAWNER_PORT = 19101;
    private static final int GATEWAY_RELAY = 19110;
    private static final int HEAD_RELAY = 19111;

    @TempDir
    static Path dir;

    /** A failure keeps the fabric's logs in target/lab-logs/ and prints their ends, before the directory goes. */
    @RegisterExtension
    static final LabFabric.KeepLogsOnFailure keepLogs = new LabFabric.KeepLogsOnFailure(() -> dir);

    private static LabFabric fabric;
    private static String gateway;
    private static String head;
    private static String gatewayBridge;
    private static String headBridge;
    private static String queue;

    @BeforeAll
    static void desktop(NetworkLab lab) throws Exception {
        // Five JVMs start and stage on a machine shared with other builds: the registry declares a member DEAD
        // after 30 s without a heartbeat (not 10 s), so a member starved of CPU for a while is not taken for dead.
        fabric = LabFabric.start(lab, dir, REGISTRY_PORT, "--fabric.registry.heartbeat.suspect-after=5",
                "--fabric.registry.heartbeat.dead-after=15");
        // The root spawner on the desktop, with the lab's hosts by name: each host names the others at the
        // address it reaches them on, so the members that inherit these hosts reach them too.
        List<String> hosts = new ArrayList<>();
        NetworkLab.Ssh ssh = lab.ssh();
        int first = 19120;
        for (Host host : List.of(Host.GATEWAY, Host.HEAD, Host.COMPUTE_1, Host.COMPUTE_2)) {
            String key = "-Dfabric.spawner.ssh.hosts." + host.labName() + ".";
            hosts.addAll(List.of(key + "address=" + host.labName(), key + "user=" + ssh.user(), key + "identity=" + ssh.privateKey(),
                    key + "known-hosts=" + ssh.knownHosts(), key + "java=" + NetworkLab.javaCommand().getFirst(),
                    key + "directory=" + dir.resolve("fabric-" + host.labName()), key + "listen-address=0.0.0.0",
                    key + "member-ports=" + first + "-" + (first + 19), key + "jvm-options=-Xmx200m"));
            first += 20;
        }
        hosts.add("-Dfabric.spawner.ssh.connect-timeout=5s");
        String spawner = "http://" + lab.address(Host.DESKTOP) + ":" + SPAWNER_PORT;
        fabric.startSpawner(Host.DESKTOP, "desktop", SPAWNER_PORT, spawner, hosts);
        fabric.awaitReady(Host.DESKTOP, spawner, "spawner-desktop.log");
    }

    @Test
    @Order(1)
    void theDesktopGrowsTheChainToComputeAndUsesItsQueue(NetworkLab lab) throws Exception {
        // gateway, mode 1: nothing in the way, either direction. Its member is the bridge for the site behind it.
        gateway = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "spawn", "bridge", "--host", "gateway", "--connectivity", "direct",
                "--config", "port=" + GATEWAY_RELAY, "--config", "address=0.0.0.0", "--config", "host=gateway",
                "--spawner", "http://" + lab.address(Host.DESKTOP) + ":" + SPAWNER_PORT, "--wait", "--timeout", "4m"));
        gatewayBridge = gateway;
        int gatewayPort = port(fabric.service(gateway));
        assertThat(lab.probe(Host.DESKTOP, Host.GATEWAY, gatewayPort)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.GATEWAY, Host.DESKTOP, SPAWNER_PORT)).isEqualTo(Reach.OPEN);

        // head, mode 3: its services open connections to the registry and to gateway's bridge only.
        lab.setMode(Host.HEAD, Mode.FIREWALL_FROM_SERVICE, List.of("public", "gateway:" + GATEWAY_RELAY), "1024:65535");
        assertThat(lab.probe(Host.HEAD, Host.GATEWAY, gatewayPort)).as("head opens nothing to gateway's member").isEqualTo(Reach.TIMEOUT);
        head = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "spawn", "queue", "--parent", gateway, "--host", "head",
                "--connectivity", "firewall-from-service", "--config", "via=http://gateway:" + GATEWAY_RELAY, "--wait", "--timeout", "4m"));
        int headPort = port(fabric.service(head));
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, headPort)).as("gateway dials head").isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.DESKTOP, Host.HEAD, headPort)).as("the desktop has no route to head").isEqualTo(Reach.UNREACHABLE);
        // Head's bridge, for compute: itself reached through gateway's (a member on head is unreachable from the desktop).
        headBridge = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "spawn", "bridge", "--parent", head,
                "--config", "port=" + HEAD_RELAY, "--config", "address=0.0.0.0", "--config", "host=head",
                "--config", "via=http://gateway:" + GATEWAY_RELAY, "--wait", "--timeout", "4m"));

        // compute-1, mode 2: nothing may connect to its services; the queue opens its channel to head's bridge.
        lab.setMode(Host.COMPUTE_1, Mode.FIREWALL_TO_SERVICE);
        queue = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "spawn", "queue", "--parent", head, "--host", "compute-1",
                "--connectivity", "firewall-to-service", "--config", "via=http://head:" + HEAD_RELAY, "--wait", "--timeout", "4m"));
        JsonNode q = fabric.service(queue).path("instance");
        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, port(fabric.service(queue)))).as("head cannot dial the queue")
                .isEqualTo(Reach.TIMEOUT);
        assertThat(q.path("parentId").asString()).isEqualTo(head);
        assertThat(q.path("metadata").path("via").asString()).isEqualTo(headBridge);
        assertThat(fabric.service(headBridge).path("instance").path("metadata").path("via").asString()).isEqualTo(gatewayBridge);
        assertThat(namespaceOf(lab, q)).isEqualTo(lab.namespace(Host.COMPUTE_1));
        assertThat(namespaceOf(lab, fabric.service(head).path("instance"))).isEqualTo(lab.namespace(Host.HEAD));
        assertThat(namespaceOf(lab, fabric.service(gateway).path("instance"))).isEqualTo(lab.namespace(Host.GATEWAY));

        // The desktop's CLI, which reaches neither head nor compute-1, puts and takes through both bridges.
        String message = fabric.ok(Host.DESKTOP, "queue", "put", queue, "render frame 1").strip();
        assertThat(takeAndAck()).startsWith(message).endsWith("render frame 1");

        // The tree: each member under the member that spawned it, across the hosts.
        String tree = fabric.ok(Host.DESKTOP, "services", "--tree");
        assertThat(indentOf(tree, queue)).isGreaterThan(indentOf(tree, head));
        assertThat(indentOf(tree, head)).isGreaterThan(indentOf(tree, gateway));
        assertThat(indentOf(tree, headBridge)).isEqualTo(indentOf(tree, queue));
        assertThat(indentOf(tree, gateway)).isGreaterThan(0);
        // Behind head's bridge the queue reaches the registry only through it, its supervision's listing included.
        assertThat(Files.readString(Path.of(q.path("metadata").path("log").asString()))).as("%s's log", queue)
                .doesNotContain("cannot list its members");

        // Spawn to RUNNING at each level, from the registry's history (docs/benchmarks.md); with FABRIC_BENCH=1,
        // against a member the desktop's spawner starts as a local process in the same run.
        String figures = "spawn to RUNNING: gateway (ssh, mode 1) " + bootstrapMillis(gateway) + " ms, head (ssh from gateway, mode 3) "
                + bootstrapMillis(head) + " ms, head's bridge (process on head) " + bootstrapMillis(headBridge)
                + " ms, compute-1 (ssh from head, mode 2 through the bridge) " + bootstrapMillis(queue) + " ms";
        if ("1".equals(System.getenv("FABRIC_BENCH"))) {
            String local = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "spawn", "queue", "--spawner",
                    "http://" + lab.address(Host.DESKTOP) + ":" + SPAWNER_PORT, "--wait", "--timeout", "4m"));
            figures += "; local process on the desktop " + bootstrapMillis(local) + " ms; load average "
                    + Files.readString(Path.of("/proc/loadavg")).strip();
        }
        System.out.println("ChainAcrossTheLabIT " + figures);
    }

    /**
     * Issue 16's lab case on the same chain: a pilot manager on head (placed over SSH by gateway's member,
     * mode 3, reached through gateway's bridge) places a pilot whose two agents it starts over SSH on
     * compute-1 and compute-2 (mode 2, reached through head's bridge, their bootstrap through it too);
     * the desktop's CLI, which reaches neither head nor the compute nodes, submits tasks, waits for them
     * and reads their outputs through the bridges. Each task prints the lab host it ran on.
     */
    @Test
    @Order(2)
    void aPilotManagerOnHeadRunsTheDesktopsTasksOnAgentsItPlacesOnBothComputeNodes(NetworkLab lab) throws Exception {
        assumeTrue(queue != null, "the chain is not up");
        // compute-2 as compute-1: nothing may connect to its services (head's own firewall would not let head dial them either).
        lab.setMode(Host.COMPUTE_2, Mode.FIREWALL_TO_SERVICE);
        // On head, over SSH from gateway's member: it listens on head's addresses, which the compute nodes reach for their bootstrap.
        String manager = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "spawn", "pilot-manager", "--parent", gateway, "--host", "head",
                "--connectivity", "firewall-from-service", "--config", "via=http://gateway:" + GATEWAY_RELAY,
                "--config", "launch-timeout=8m", "--wait", "--timeout", "4m"));
        assertThat(namespaceOf(lab, fabric.service(manager).path("instance"))).isEqualTo(lab.namespace(Host.HEAD));

        String relay = "http://head:" + HEAD_RELAY;
        String pilot = LabFabric.lastLine(fabric.ok(Host.DESKTOP, "pilot", "submit", "--manager", manager, "--agents", "2",
                "--host", "compute-1", "--host", "compute-2", "--via", relay, "--connectivity", "firewall-to-service",
                "--runtime", "30m", "--wait", "--timeout", "9m"));
        JsonNode placed = LabFabric.JSON.readTree(fabric.ok(Host.DESKTOP, "pilot", "list", "--manager", manager, "-o", "json"))
                .path("pilots").get(0);
        assertThat(placed.path("id").asString()).isEqualTo(pilot);
        assertThat(placed.path("state").asString()).isEqualTo("ACTIVE");
        java.util.Map<String, String> hostOfAgent = new java.util.HashMap<>();
        for (JsonNode agent : placed.path("agents")) {
            JsonNode instance = fabric.service(agent.asString()).path("instance");
            assertThat(instance.path("parentId").asString()).as("the manager spawned %s", agent).isEqualTo(manager);
            assertThat(instance.path("metadata").path("via").asString()).isEqualTo(headBridge);
            hostOfAgent.put(agent.asString(), namespaceOf(lab, instance));
        }
        assertThat(hostOfAgent.values()).containsExactlyInAnyOrder(lab.namespace(Host.COMPUTE_1), lab.namespace(Host.COMPUTE_2));
        // The pilot's queue and pubsub are the manager's children on head; the agents reach them through head's bridge.
        assertThat(namespaceOf(lab, fabric.service(placed.path("queue").asString()).path("instance"))).isEqualTo(lab.namespace(Host.HEAD));

        // From the desktop: tasks that say where they ran (long enough that both agents, one core each, take some), and one that fails.
        List<String> ids = new ArrayList<>(fabric.ok(Host.DESKTOP, "task", "submit", pilot, "--manager", manager, "--session", "lab",
                "--count", "6", "--time-limit", "2m", "--", "sh", "-c", "echo \"$(/bin/ip netns identify $$) $(/bin/hostname -I)\"; sleep 2")
                .strip().lines().toList());
        String failing = fabric.ok(Host.DESKTOP, "task", "submit", pilot, "--manager", manager, "--session", "lab", "--",
                "sh", "-c", "echo 'no such frame' >&2; exit 3").strip();
        ids.add(failing);
        assertThat(ids).hasSize(7);
        String waited = fabric.ok(Host.DESKTOP, "task", "wait", "--manager", manager, "--session", "lab", "--pilot", pilot,
                "--timeout", "8m", "--progress", "lines");
        assertThat(waited).contains("DONE 6").contains("FAILED 1");

        JsonNode tasks = LabFabric.JSON.readTree(fabric.ok(Host.DESKTOP, "task", "list", pilot, "--manager", manager, "--session", "lab",
                "-o", "json")).path("tasks");
        java.util.Set<String> ranOn = new java.util.HashSet<>();
        for (JsonNode task : tasks) {
            String id = task.path("id").asString();
            assertThat(ids).contains(id);
            String where = hostOfAgent.get(task.path("agent").asString());
            assertThat(where).as("task %s ran on an agent of the pilot: %s", id, task).isNotNull();
            if (id.equals(failing)) {
                assertThat(task.path("state").asString()).isEqualTo("FAILED");
                assertThat(task.path("reason").asString()).isEqualTo("exit-status");
                assertThat(task.path("exitStatus").asInt()).isEqualTo(3);
                ExecResult output = fabric.run(Host.DESKTOP, "task", "output", id, "--manager", manager, "--session", "lab");
                assertThat(output.stderr()).contains("no such frame");
                continue;
            }
            assertThat(task.path("state").asString()).as("%s", task).isEqualTo("DONE");
            String printed = fabric.ok(Host.DESKTOP, "task", "output", id, "--manager", manager, "--session", "lab").strip();
            Host host = where.equals(lab.namespace(Host.COMPUTE_1)) ? Host.COMPUTE_1 : Host.COMPUTE_2;
            // The namespace the task's process ran in, and the lab address of that host: its agent's host.
            assertThat(printed).startsWith(where + " ").contains(lab.address(host));
            ranOn.add(where);
        }
        assertThat(tasks).hasSize(7);
        assertThat(ranOn).as("tasks ran on both compute nodes").containsExactlyInAnyOrder(lab.namespace(Host.COMPUTE_1),
                lab.namespace(Host.COMPUTE_2));

        // The pilot ends: its agents on the compute nodes stop, and the later cases find the chain as it was.
        fabric.ok(Host.DESKTOP, "pilot", "cancel", pilot, "--manager", manager);
        for (String agent : hostOfAgent.keySet()) {
            fabric.awaitState(agent, "STOPPED", Duration.ofMinutes(2));
        }
    }

    /** From the member's first PENDING to its first RUNNING, as its history records them. */
    private static long bootstrapMillis(String id) {
        java.time.Instant pending = null;
        for (JsonNode step : fabric.service(id).path("history")) {
            java.time.Instant at = java.time.Instant.parse(step.path("at").asString());
            if (pending == null && step.path("to").asString().equals("PENDING")) {
                pending = at;
            } else if (pending != null && step.path("to").asString().equals("RUNNING")) {
                return Duration.between(pending, at).toMillis();
            }
        }
        throw new AssertionError(id + " has no PENDING then RUNNING in its history");
    }

    @Test
    @Order(3)
    void aKilledComputeQueueIsRestartedByItsParentOnHeadWithItsMessages(NetworkLab lab) throws Exception {
        assumeTrue(queue != null, "the chain is not up");
        fabric.ok(Host.DESKTOP, "queue", "put", queue, "kept across a kill");
        JsonNode before = fabric.service(queue).path("instance");
        kill(lab, Host.COMPUTE_1, before);

        JsonNode after = awaitIncarnation(queue, before.path("incarnation").asLong() + 1);
        assertThat(after.path("parentId").asString()).isEqualTo(head);
        assertThat(processesOf(lab, Host.COMPUTE_1, queue)).hasSize(1);
        assertThat(takeAndAck()).endsWith("kept across a kill");
    }

    @Test
    @Order(4)
    void aKilledHeadMemberIsRestartedByGatewayAndTakesItsChildrenBack(NetworkLab lab) throws Exception {
        assumeTrue(queue != null, "the chain is not up");
        JsonNode before = fabric.service(head).path("instance");
        kill(lab, Host.HEAD, before);

        JsonNode after = awaitIncarnation(head, before.path("incarnation").asLong() + 1);
        assertThat(after.path("parentId").asString()).isEqualTo(gateway);
        assertThat(processesOf(lab, Host.HEAD, head)).hasSize(1);
        // Its children kept running, and are supervised by it again: one process each, not a second. Looked at
        // once the new incarnation has taken each back (it does so once RUNNING), not while it is still at it.
        String headLog = awaitTakenBack(after, List.of(queue, headBridge));
        for (String child : List.of(queue, headBridge)) {
            assertThat(headLog).as("%s took %s back; its log since its restart:\n%s", head, child, headLog)
                    .containsPattern("member " + java.util.regex.Pattern.quote(child) + " incarnation [0-9]+: re-adopted");
        }
        assertThat(processesOf(lab, Host.COMPUTE_1, queue)).hasSize(1);
        assertThat(processesOf(lab, Host.HEAD, headBridge)).hasSize(1);
        assertOneProcessPerMember(lab);
        assertThat(fabric.service(queue).path("instance").path("state").asString()).isEqualTo("RUNNING");
        fabric.ok(Host.DESKTOP, "queue", "put", queue, "after head's restart");
        assertThat(takeAndAck()).endsWith("after head's restart");
    }

    @Test
    @Order(5)
    void aHostTheSpawnerCannotRouteToFailsTheMemberWithThatReason(NetworkLab lab) throws Exception {
        assumeTrue(gateway != null, "gateway's member is not up");
        // compute-2 is on the cluster network: gateway has no route to it.
        assertThat(lab.probe(Host.GATEWAY, Host.COMPUTE_2, 22)).isEqualTo(Reach.UNREACHABLE);
        ExecResult spawn = fabric.run(Host.DESKTOP, "spawn", "queue", "--parent", gateway, "--host", "compute-2");
        assertThat(spawn.exitCode()).as(spawn.stderr()).isNotZero();
        assertThat(spawn.stderr()).containsIgnoringCase("compute-2").containsIgnoringCase("unreachable");
    }

    @Test
    @Order(6)
    void aCutBetweenHeadAndComputeLongerThanTheDeadThresholdLeavesOneQueueRunningWithItsMessages(NetworkLab lab) throws Exception {
        assumeTrue(queue != null, "the chain is not up");
        fabric.ok(Host.DESKTOP, "queue", "put", queue, "put before the cut");
        lab.cut(Host.HEAD, Host.COMPUTE_1);
        try {
            // The queue's heartbeats go through head's bridge: none arrive, and the registry declares it DEAD.
            fabric.awaitState(queue, "DEAD", Duration.ofMinutes(3));
            // Head's supervision rounds try to restart it meanwhile: compute-1 does not answer, so it stays DEAD
            // (no incarnation spent on a launch that cannot work, nothing FAILED for good) until the link is back.
            Thread.sleep(Duration.ofSeconds(15));
            assertThat(fabric.service(queue).path("instance").path("state").asString()).as("%s during the cut", queue).isEqualTo("DEAD");
        } finally {
            lab.restore(Host.HEAD, Host.COMPUTE_1);
        }
        // Afterwards one incarnation runs: a stale one exits on its first refused heartbeat.
        JsonNode running = fabric.awaitState(queue, "RUNNING", Duration.ofMinutes(4));
        java.time.Instant deadline = java.time.Instant.now().plus(Duration.ofMinutes(1));
        while (processesOf(lab, Host.COMPUTE_1, queue).size() > 1 && java.time.Instant.now().isBefore(deadline)) {
            Thread.sleep(1000);
        }
        assertThat(processesOf(lab, Host.COMPUTE_1, queue)).as("one process of %s on compute-1", queue)
                .containsExactly(running.path("metadata").path("pid").asString());
        assertThat(takeAndAck()).endsWith("put before the cut");
    }

    /**
     * Waits until the restarted member {@code restarted} has taken each of {@code children} back, or
     * started it again, as its log says; returns its log since its restart (its last {@code ===} header).
     */
    private static String awaitTakenBack(JsonNode restarted, List<String> children) throws Exception {
        Path log = Path.of(restarted.path("metadata").path("log").asString());
        java.time.Instant deadline = java.time.Instant.now().plus(Duration.ofMinutes(3));
        while (true) {
            String text = Files.readString(log);
            String since = text.substring(Math.max(0, text.lastIndexOf("=== ")));
            if (children.stream().allMatch(child -> java.util.regex.Pattern.compile("member " + java.util.regex.Pattern.quote(child)
                            + "(: restarting| incarnation [0-9]+: re-adopted)").matcher(since).find())
                    || java.time.Instant.now().isAfter(deadline)) {
                return since;
            }
            Thread.sleep(1000);
        }
    }

    /**
     * Exactly one process per member id on each of the lab's hosts: two JVMs of one member running at
     * once is the failure this fabric must never show (a restart next to a process that still runs).
     */
    private static void assertOneProcessPerMember(NetworkLab lab) {
        java.util.Map<String, List<String>> byMember = new java.util.TreeMap<>();
        for (Host host : Host.values()) {
            for (String pid : lab.exec(Host.DESKTOP, "ip", "netns", "pids", lab.namespace(host)).stdout().strip().split("\\s+")) {
                try {
                    for (String argument : Files.readString(Path.of("/proc", pid, "cmdline")).split("\0")) {
                        if (argument.startsWith("-Dfabric.member.id=")) {
                            byMember.computeIfAbsent(argument.substring("-Dfabric.member.id=".length()), id -> new ArrayList<>())
                                    .add("pid " + pid + " on " + host.labName());
                        }
                    }
                } catch (IOException ended) {
                    // gone meanwhile
                }
            }
        }
        assertThat(byMember).as("the member processes on the lab's hosts").isNotEmpty();
        byMember.forEach((id, processes) -> assertThat(processes)
                .as(() -> "processes of member " + id + " (all members: " + byMember + ")\n" + fabric.logs()).hasSize(1));
    }

    /** Takes the queue's next message from the desktop and acks it, both through the bridges; the message's line. */
    private static String takeAndAck() {
        // A lease long enough for two CLI runs through two bridges on a loaded machine (the default is 30 s).
        String message = fabric.ok(Host.DESKTOP, "queue", "take", queue, "--visibility", "10m").lines().toList().get(1);
        String lease = message.split("\\s+")[1];
        fabric.ok(Host.DESKTOP, "queue", "ack", queue, lease);
        return message;
    }

    private static JsonNode awaitIncarnation(String id, long incarnation) throws InterruptedException {
        java.time.Instant deadline = java.time.Instant.now().plus(Duration.ofMinutes(4));
        while (true) {
            JsonNode instance = fabric.service(id).path("instance");
            if (instance.path("incarnation").asLong() >= incarnation && instance.path("state").asString().equals("RUNNING")) {
                return instance;
            }
            if (java.time.Instant.now().isAfter(deadline)) {
                throw new AssertionError(id + " is not RUNNING at incarnation " + incarnation + ": " + fabric.service(id) + "\n" + fabric.logs());
            }
            Thread.sleep(1000);
        }
    }

    private static void kill(NetworkLab lab, Host host, JsonNode member) {
        String pid = member.path("metadata").path("pid").asString();
        assertThat(processesOf(lab, host, member.path("id").asString())).contains(pid);
        assertThat(lab.exec(host, "kill", "-9", pid).ok()).isTrue();
    }

    private static int port(JsonNode service) {
        return java.net.URI.create(service.path("instance").path("endpoints").path("management").asString()).getPort();
    }

    private static String namespaceOf(NetworkLab lab, JsonNode instance) {
        return lab.exec(Host.DESKTOP, "ip", "netns", "identify", instance.path("metadata").path("pid").asString()).stdout().strip();
    }

    private static int indentOf(String tree, String id) {
        String line = tree.lines().filter(l -> l.contains(id)).findFirst().orElseThrow(() -> new AssertionError(id + " not in\n" + tree));
        int i = 0;
        while (i < line.length() && !Character.isLetterOrDigit(line.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The pids of the processes inside {@code host} that run member {@code id}. */
    private static List<String> processesOf(NetworkLab lab, Host host, String id) {
        List<String> pids = new ArrayList<>();
        for (String pid : lab.exec(Host.DESKTOP, "ip", "netns", "pids", lab.namespace(host)).stdout().strip().split("\\s+")) {
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
}
