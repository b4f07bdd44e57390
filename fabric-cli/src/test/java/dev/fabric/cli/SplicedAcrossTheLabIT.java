package dev.fabric.cli;

import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.NatVariant;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connectivity mode 4 (docs/connectivity.md) across the lab's NATs (docs/lab.md): the registry and a
 * bridge on {@code public}; a spawner on {@code home-1} (behind {@code nat-1}) whose members run on
 * {@code home-2} (behind {@code nat-2}). Neither home host can be reached from outside its NAT, both
 * reach {@code public}. The spawner starts its members on home-2 as a batch system would start a job
 * on a node it has no network path to: its process launcher's {@code java} is a script that runs
 * the member's JVM inside home-2 ({@code ip netns exec}); every connection between the spawner and
 * the member is then what mode 4 makes of it.
 *
 * <p>One lab, one registry, one bridge and two spawners for the whole class.
 */
@RequiresNetworkLab
class SplicedAcrossTheLabIT {

    // Below the lab's ephemeral range (LabFabric.fixedPort): 45070 once failed the class, taken as the registry bound it.
    private static final int REGISTRY_PORT = 19070;
    private static final int SPAWNER_PORT = 19072;
    private static final int IMPATIENT_SPAWNER_PORT = 19073;
    private static final int RELAY_PORT = 19080;

    @TempDir
    static Path dir;

    /** A failure keeps the fabric's logs in target/lab-logs/ and prints their ends, before the directory goes. */
    @RegisterExtension
    static final LabFabric.KeepLogsOnFailure keepLogs = new LabFabric.KeepLogsOnFailure(() -> dir);

    private static LabFabric fabric;
    private static String homeSpawner;
    private static String impatientSpawner;
    private static String relay;
    private static String bridge;

    @BeforeAll
    static void fabric(NetworkLab lab) throws Exception {
        lab.resetNats();
        fabric = LabFabric.start(lab, dir, REGISTRY_PORT);
        String publicSpawner = "http://" + lab.address(Host.PUBLIC) + ":" + SPAWNER_PORT;
        fabric.startSpawner(Host.PUBLIC, "public", SPAWNER_PORT, publicSpawner, List.of());
        Path javaOnHome2 = dir.resolve("java-on-home-2");
        Files.writeString(javaOnHome2, "#!/bin/sh\nexec ip netns exec " + lab.namespace(Host.HOME_2) + " "
                + Path.of(System.getProperty("java.home"), "bin", "java") + " \"$@\"\n");
        Files.setPosixFilePermissions(javaOnHome2, PosixFilePermissions.fromString("rwx------"));
        homeSpawner = "http://" + lab.address(Host.HOME_1) + ":" + SPAWNER_PORT;
        fabric.startSpawner(Host.HOME_1, "home-1", SPAWNER_PORT, homeSpawner, List.of("-Dfabric.spawner.process.java=" + javaOnHome2));
        // A spawner that gives a member 20 s to bootstrap: the fault of a member that never meets it (frozen, it cannot
        // meet it later either, so waiting longer proves nothing and costs CI time). Its members freeze themselves before
        // their JVM starts: a test that froze them from outside raced a member starting from its AOT cache, and lost.
        Path frozenJavaOnHome2 = dir.resolve("frozen-java-on-home-2");
        Files.writeString(frozenJavaOnHome2, "#!/bin/sh\nkill -STOP $$\nexec " + javaOnHome2 + " \"$@\"\n");
        Files.setPosixFilePermissions(frozenJavaOnHome2, PosixFilePermissions.fromString("rwx------"));
        impatientSpawner = "http://" + lab.address(Host.HOME_1) + ":" + IMPATIENT_SPAWNER_PORT;
        fabric.startSpawner(Host.HOME_1, "home-1-impatient", IMPATIENT_SPAWNER_PORT, impatientSpawner, List.of(
                "-Dfabric.spawner.process.java=" + frozenJavaOnHome2, "-Dfabric.spawner.bootstrap-timeout=20s",
                "-Dfabric.spawner.stop-grace=5s"));
        fabric.awaitReady(Host.PUBLIC, publicSpawner, "spawner-public.log");
        fabric.awaitReady(Host.HOME_1, homeSpawner, "spawner-home-1.log");
        fabric.awaitReady(Host.HOME_1, impatientSpawner, "spawner-home-1-impatient.log");
        relay = "http://" + lab.address(Host.PUBLIC) + ":" + RELAY_PORT;
        bridge = LabFabric.lastLine(fabric.ok(Host.PUBLIC, "spawn", "bridge", "--spawner", publicSpawner, "--config", "port=" + LabFabric.fixedPort(RELAY_PORT),
                "--config", "address=0.0.0.0", "--config", "host=" + lab.address(Host.PUBLIC), "--wait", "--timeout", "4m"));
    }

    @AfterEach
    void easyNats(NetworkLab lab) {
        lab.resetNats();
    }

    @Test
    void aMemberBehindAnEasyNatIsBootstrappedOverASpliceAndServesTheDesktop(NetworkLab lab) throws Exception {
        String queue = spawnSpliced(homeSpawner);

        JsonNode instance = fabric.service(queue).path("instance");
        // The member's own side of the connection: its inside address on home-2, to nat-1's public address (the
        // spawner's mapping): the two SYNs crossed; no relay stood between them (the bridge is 10.14.1.10).
        String splice = instance.path("metadata").path("splice").asString();
        assertThat(splice).startsWith("spliced /" + lab.address(Host.HOME_2) + ":").contains(" <-> /" + lab.address(Host.NAT_1) + ":");
        assertThat(history(queue)).anyMatch(step -> step.startsWith("mode 4: spliced /" + lab.address(Host.HOME_1) + ":")
                && step.contains(" <-> /" + lab.address(Host.NAT_2) + ":"));
        assertThat(history(queue)).noneMatch(step -> step.contains("relayed through the bridge"));

        // After its bootstrap the desktop puts and takes (over a splice made on demand, or through the bridge it names).
        String id = fabric.ok(Host.DESKTOP, "queue", "put", queue, "spliced").strip();
        List<String> taken = fabric.ok(Host.DESKTOP, "queue", "take", queue).lines().toList();
        assertThat(taken.get(1)).startsWith(id).endsWith("spliced");

        // A caller behind nat-1 that lives on: its requests go over a splice made on demand, proven by the connection's
        // addresses (its inside address to nat-2's public one; no bridge between), and the member records it.
        try (LabQueueCaller caller = LabQueueCaller.start(lab, Host.HOME_1, queue, fabric, dir)) {
            LabQueueCaller.Answer put = caller.ask("put over a splice");
            assertThat(put.kind()).as(put.toString()).isEqualTo("SPLICED");
            assertThat(put.path()).startsWith("spliced /" + lab.address(Host.HOME_1) + ":").contains(" <-> /" + lab.address(Host.NAT_2) + ":");
            // (the desktop's calls above may have been spliced too: this one is from nat-1's public address)
            awaitOnDemand(queue, "spliced /" + lab.address(Host.HOME_2) + ":", " <-> /" + lab.address(Host.NAT_1) + ":");
            assertThat(fabric.ok(Host.DESKTOP, "service", queue)).contains("REACHED         spliced on demand, else relayed through bridge "
                    + bridge, "; bootstrap spliced /" + lab.address(Host.HOME_2) + ":", "; last caller spliced /" + lab.address(Host.HOME_2) + ":");

            // The fault: the spliced connection drops (both ends reset, as when a NAT forgets it). The next request
            // splices anew, and the message acknowledged before is there.
            NetworkLab.ExecResult killed = lab.exec(Host.HOME_1, "ss", "-K", "dst", lab.address(Host.NAT_2));
            assertThat(killed.ok()).as(killed.stderr()).isTrue();
            // (ss prints the addresses of a dual-stack socket as [::ffff:a.b.c.d]:port)
            assertThat(killed.stdout()).as("the spliced connection was there to drop").contains(lab.address(Host.NAT_2));
            LabQueueCaller.Answer after = caller.ask("take");
            assertThat(after.result()).as(after.toString()).isEqualTo(put.result() + " over a splice");
            assertThat(after.kind()).isEqualTo("SPLICED");
            assertThat(after.path()).as("a new splice, from another port").isNotEqualTo(put.path())
                    .startsWith("spliced /" + lab.address(Host.HOME_1) + ":");
        }
    }

    /**
     * The fault: the bootstrap's spliced connection drops. {@code nat-2} resets the member's side of the splice (a rule for
     * that flow only: from home-2 to nat-1's public address) just as the member answers the spawner's key offer: the member,
     * holding its keys, sees the reset and opens its half of a circuit through the bridge; the spawner, told nothing, sees
     * the drop when its call times out and opens its own. The bootstrap finishes over the circuit, and says so.
     */
    @Test
    void whenTheBootstrapsSplicedConnectionDropsTheBootstrapGoesOnThroughTheBridgeAndSaysSo(NetworkLab lab) throws Exception {
        List<String> rule = List.of("FORWARD", "-s", lab.address(Host.HOME_2), "-d", lab.address(Host.NAT_1), "-p", "tcp",
                "-m", "string", "--string", "HTTP/1.1 204", "--algo", "bm", "-j", "REJECT", "--reject-with", "tcp-reset");
        NetworkLab.ExecResult inserted = lab.exec(Host.NAT_2, java.util.stream.Stream.concat(java.util.stream.Stream.of("iptables", "-I"),
                rule.stream()).toArray(String[]::new));
        assertThat(inserted.ok()).as(inserted.stderr()).isTrue();
        String queue;
        try {
            queue = spawnSpliced(homeSpawner);
        } finally {
            lab.exec(Host.NAT_2, java.util.stream.Stream.concat(java.util.stream.Stream.of("iptables", "-D"), rule.stream())
                    .toArray(String[]::new));
        }

        List<String> history = history(queue);
        assertThat(history).as("spliced first, across the easy NATs").anyMatch(step -> step.startsWith("mode 4: spliced /"
                + lab.address(Host.HOME_1) + ":") && step.contains(" <-> /" + lab.address(Host.NAT_2) + ":"));
        assertThat(history).anyMatch(step -> step.startsWith("mode 4: relayed through the bridge at " + relay
                + ": the spliced connection dropped before the fabric keys were delivered (")
                && step.matches(".*; the bootstrap goes on over circuit rv-[A-Za-z0-9_-]+-r1"));
        assertThat(history).contains("mode 4: fabric keys delivered over the circuit through the bridge (the member already held them: "
                + "they had arrived before the drop), sealed to the member's key");
        JsonNode instance = fabric.service(queue).path("instance");
        assertThat(instance.path("state").asString()).isEqualTo("RUNNING");
        assertThat(instance.path("metadata").path("splice").asString()).startsWith("relayed through bridge " + bridge + " (spliced /"
                + lab.address(Host.HOME_2) + ":").matches(".*; dropped before it was configured, went on over circuit rv-[A-Za-z0-9_-]+-r1\\)");

        String id = fabric.ok(Host.DESKTOP, "queue", "put", queue, "after the drop").strip();
        List<String> taken = fabric.ok(Host.DESKTOP, "queue", "take", queue).lines().toList();
        assertThat(taken.get(1)).startsWith(id).endsWith("after the drop");
    }

    @Test
    void behindASymmetricNatTheBootstrapFallsBackToTheBridgeAndSaysSo(NetworkLab lab) throws Exception {
        lab.setNat(Host.NAT_2, NatVariant.SYMMETRIC);
        String queue = spawnSpliced(homeSpawner);

        JsonNode instance = fabric.service(queue).path("instance");
        assertThat(instance.path("metadata").path("splice").asString())
                .isEqualTo("relayed through bridge " + bridge + " (splice failed (no-connection))");
        assertThat(history(queue)).anyMatch(step -> step.startsWith("mode 4: relayed through the bridge at " + relay
                + ": the splice failed (no-connection"));
        assertThat(history(queue)).contains("mode 4: fabric keys delivered over the circuit through the bridge, sealed to the member's key");
        assertThat(fabric.ok(Host.DESKTOP, "service", queue)).contains("bootstrap relayed through bridge " + bridge);

        String before = fabric.ok(Host.DESKTOP, "queue", "put", queue, "before the bridge dies").strip();

        // The bridge dies: its spawner restarts it under its id on its port; the member's channel comes back and nothing is lost.
        JsonNode bridgeInstance = fabric.service(bridge).path("instance");
        long incarnation = bridgeInstance.path("incarnation").asLong();
        assertThat(lab.exec(Host.PUBLIC, "kill", "-9", bridgeInstance.path("metadata").path("pid").asString()).ok()).isTrue();
        awaitIncarnation(bridge, incarnation + 1);
        List<String> taken = takeWhenReachable(queue);
        assertThat(taken.get(1)).startsWith(before).endsWith("before the bridge dies");

        // A caller behind nat-1 that lives on: its splice fails (nat-2 is symmetric), so its request goes through the
        // bridge at once; once nat-2 lets splices through, a retry in the background splices, and new requests take it.
        try (LabQueueCaller caller = LabQueueCaller.start(lab, Host.HOME_1, queue, fabric, dir)) {
            LabQueueCaller.Answer put = caller.ask("put through the bridge");
            assertThat(put.kind()).as(put.toString()).isEqualTo("RELAYED");
            assertThat(put.path()).isEqualTo("relayed through the bridge at " + lab.address(Host.PUBLIC) + ":" + RELAY_PORT
                    + " (splice failed: no-connection)");
            awaitOnDemand(queue, "relayed through bridge " + bridge + " (splice failed (no-connection))", "");

            lab.setNat(Host.NAT_2, NatVariant.EASY);
            LabQueueCaller.Answer path = caller.ask("path");
            Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
            while (!path.kind().equals("SPLICED")) {
                assertThat(Instant.now()).as("an upgrade to a splice; last: %s\n%s", path, caller.log()).isBefore(deadline);
                Thread.sleep(500);
                path = caller.ask("path");
            }
            assertThat(path.path()).startsWith("spliced (an upgrade from the bridge) /" + lab.address(Host.HOME_1) + ":")
                    .contains(" <-> /" + lab.address(Host.NAT_2) + ":");
            LabQueueCaller.Answer after = caller.ask("take");
            assertThat(after.result()).as(after.toString()).isEqualTo(put.result() + " through the bridge");
            assertThat(after.kind()).isEqualTo("SPLICED");
            assertThat(after.path()).isEqualTo(path.path());
            awaitOnDemand(queue, "spliced /" + lab.address(Host.HOME_2) + ":", " (an upgrade from the bridge)");
        }
    }

    @Test
    void behindResettingNatsTheBootstrapConnectsAndSaysWhichPathItTook(NetworkLab lab) throws Exception {
        // Both NATs answer an unsolicited SYN with a reset, and a reset seen by a NAT's entry closes that entry: the two
        // sides' SYNs pass only if they cross in flight, which they rarely do without latency, so the bootstrap falls back
        // to the bridge. Whichever way it goes, the member is bootstrapped (RUNNING: redeemed, verified and configured over
        // that path), and what its registration says is what the spawner saw. Reaching it through the bridge afterwards,
        // and the CLI's account of it, are the symmetric case's above: not repeated, to keep the class's CI time.
        lab.setNat(Host.NAT_1, NatVariant.RESETTING);
        lab.setNat(Host.NAT_2, NatVariant.RESETTING);
        String queue = spawnSpliced(homeSpawner);

        JsonNode service = fabric.service(queue);
        String splice = service.path("instance").path("metadata").path("splice").asString();
        List<String> history = StreamSupport.stream(service.path("history").spliterator(), false)
                .map(step -> step.path("reason").asString("")).toList();
        System.out.println("behind resetting NATs: " + splice);
        if (splice.startsWith("relayed")) {
            assertThat(splice).isEqualTo("relayed through bridge " + bridge + " (splice failed (no-connection))");
            assertThat(history).anyMatch(step -> step.startsWith("mode 4: relayed through the bridge at " + relay
                    + ": the splice failed (no-connection"));
        } else {
            assertThat(splice).startsWith("spliced /" + lab.address(Host.HOME_2) + ":").contains(" <-> /" + lab.address(Host.NAT_1) + ":");
            assertThat(history).noneMatch(step -> step.contains("relayed through the bridge"));
        }
        assertThat(service.path("instance").path("state").asString()).isEqualTo("RUNNING");
    }

    @Test
    void aMemberThatNeverArrivesAtTheRendezvousFailsWithTheReasonAndIsKilled(NetworkLab lab) throws Exception {
        String queue = LabFabric.lastLine(fabric.ok(Host.HOME_1, "spawn", "queue", "--spawner", impatientSpawner, "--connectivity", "SPLICED",
                "--config", "via=" + relay));
        // Frozen before its JVM starts (the impatient spawner's java): it will never join the rendezvous, nor exit by itself.
        String pid = "";
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (pid.isEmpty() && Instant.now().isBefore(deadline)) {
            pid = fabric.service(queue).path("instance").path("metadata").path("pid").asString("");
            Thread.sleep(200);
        }
        assertThat(pid).as("the member's pid").isNotEmpty();

        JsonNode failed = fabric.awaitState(queue, "FAILED", Duration.ofMinutes(3));
        assertThat(failed.path("stateReason").asString()).contains("mode 4: the member did not join rendezvous rv-", "(peer-never-arrived)");
        Instant gone = Instant.now().plus(Duration.ofSeconds(60));
        while (lab.exec(Host.HOME_2, "kill", "-0", pid).ok() && Instant.now().isBefore(gone)) {
            Thread.sleep(500);
        }
        assertThat(lab.exec(Host.HOME_2, "kill", "-0", pid).ok()).as("the member process is killed").isFalse();
    }

    /**
     * Waits until the member's record of its last on-demand caller starts with {@code prefix} and contains {@code part}
     * (it records it after the splice, and another caller may have been recorded before).
     */
    private static void awaitOnDemand(String queue, String prefix, String part) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        String recorded = fabric.service(queue).path("instance").path("metadata").path("splice.on-demand").asString("");
        while (!recorded.startsWith(prefix) || !recorded.contains(part)) {
            assertThat(Instant.now()).as("%s records a caller's path starting '%s' with '%s'; it says '%s'\n%s", queue, prefix, part,
                    recorded, fabric.logs()).isBefore(deadline);
            Thread.sleep(500);
            recorded = fabric.service(queue).path("instance").path("metadata").path("splice.on-demand").asString("");
        }
    }

    private static String spawnSpliced(String spawner) {
        return LabFabric.lastLine(fabric.ok(Host.HOME_1, "spawn", "queue", "--spawner", spawner, "--connectivity", "SPLICED",
                "--config", "via=" + relay, "--wait", "--timeout", "4m"));
    }

    private static List<String> history(String id) {
        return StreamSupport.stream(fabric.service(id).path("history").spliterator(), false)
                .map(step -> step.path("reason").asString("")).toList();
    }

    private static void awaitIncarnation(String id, long incarnation) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        JsonNode instance = fabric.service(id).path("instance");
        while (instance.path("incarnation").asLong() < incarnation || !instance.path("state").asString().equals("RUNNING")) {
            assertThat(Instant.now()).as("%s incarnation %d RUNNING; %s\n%s", id, incarnation, instance, fabric.logs()).isBefore(deadline);
            Thread.sleep(1000);
            instance = fabric.service(id).path("instance");
        }
    }

    /** {@code fabric queue take} from the desktop, again while the member's channel to the restarted bridge is not back. */
    private static List<String> takeWhenReachable(String queue) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (true) {
            NetworkLab.ExecResult taken = fabric.run(Host.DESKTOP, "queue", "take", queue);
            if (taken.ok()) {
                List<String> lines = taken.stdout().lines().toList();
                // Acked at once: on a loaded machine the next steps outlast the lease's visibility, and an unacked
                // message comes back to the queue ahead of the ones put after it.
                fabric.ok(Host.DESKTOP, "queue", "ack", queue, lines.get(1).split("\\s+")[1]);
                return lines;
            }
            assertThat(Instant.now()).as("take from %s: %s\n%s", queue, taken.stderr(), fabric.logs()).isBefore(deadline);
            Thread.sleep(1000);
        }
    }
}
