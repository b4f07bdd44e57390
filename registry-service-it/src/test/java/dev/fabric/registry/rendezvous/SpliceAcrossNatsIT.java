package dev.fabric.registry.rendezvous;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.registry.RegistryProcess;
import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.NatVariant;
import dev.fabric.testsupport.RequiresNetworkLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TCP splicing through real NATs (the network lab's, docs/lab.md), the registry on {@code public} as the
 * broker: a spawner-like initiator on {@code home-1} (behind nat-1), a member-like peer on {@code home-2}
 * (behind nat-2) joining with its bootstrap identity. Each side is a {@link SpliceProbe} process inside
 * its host; nothing relays between them, which the connection's own addresses show. (A peer that never
 * arrives, and the refusals, are {@code RendezvousIT}'s, on loopback.)
 */
@RequiresNetworkLab
class SpliceAcrossNatsIT {

    private static final Path REGISTRY_JAR = RegistryProcess.JAR;
    private static final int REGISTRY_PORT = 19210;
    private static final String MEMBER = "queue-5p11ce00";
    private static final String OTP = "s".repeat(43);

    @TempDir
    static Path dir;

    private static String registryUrl;

    @BeforeAll
    static void registry(NetworkLab lab) throws Exception {
        assumeTrue(Files.exists(REGISTRY_JAR), REGISTRY_JAR + " is not built: run this test through mvn verify");
        FabricKeys.generate().writeTo(dir.resolve("keys"));
        registryUrl = "http://" + lab.address(Host.PUBLIC) + ":" + REGISTRY_PORT;
        ProcessBuilder registry = lab.processBuilder(Host.PUBLIC, NetworkLab.javaCommand("-Xmx256m", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-jar", REGISTRY_JAR.toString(), "--server.address=" + lab.address(Host.PUBLIC)));
        registry.environment().put("FABRIC_KEYS_PATH", dir.resolve("keys").toString());
        registry.environment().put("FABRIC_DATA_DIR", dir.resolve("registry").toString());
        registry.environment().put("FABRIC_REGISTRY_PORT", Integer.toString(REGISTRY_PORT));
        lab.startProcess(registry, dir.resolve("registry.log"));
        lab.awaitListening(Host.PUBLIC, REGISTRY_PORT, Duration.ofMinutes(3));
    }

    @AfterEach
    void easyNatsAgain(NetworkLab lab) {
        lab.resetNats();
    }

    @Test
    void twoHostsBehindEasyNatsSpliceThroughTheRegistry(NetworkLab lab) {
        List<String> outcomes = splice(lab, Host.HOME_1, Host.HOME_2, 10);

        String initiator = outcomes.get(0);
        String peer = outcomes.get(1);
        assertThat(initiator).as(initiator).startsWith("spliced 10.14.4.10:");
        assertThat(peer).as(peer).startsWith("spliced 10.14.5.10:");
        String[] i = initiator.lines().findFirst().orElseThrow().split(" ");
        String[] p = peer.lines().findFirst().orElseThrow().split(" ");
        // Each side's connection runs from its own inside address to the other's public mapping, as the
        // registry observed it: the other side's NAT address and the port the other side bound.
        assertThat(i[2]).isEqualTo(p[3]).startsWith("10.14.1.32:");
        assertThat(p[2]).isEqualTo(i[3]).startsWith("10.14.1.31:");
        assertThat(port(i[1])).as("an easy NAT keeps the bound port").isEqualTo(port(i[3]));
        assertThat(initiator).contains("heard peer");
        assertThat(peer).contains("heard initiator");
    }

    @Test
    void twoNatsInARowSpliceWhenBothAreEasy(NetworkLab lab) {
        List<String> outcomes = splice(lab, Host.HOME_3, Host.HOME_2, 10);

        assertThat(outcomes.get(0)).as(outcomes.get(0)).startsWith("spliced 10.14.6.10:").contains("heard peer");
        assertThat(outcomes.get(1)).as(outcomes.get(1)).startsWith("spliced 10.14.5.10:").contains("heard initiator");
    }

    @Test
    void aSymmetricNatDefeatsTheSpliceAndBothSidesSaySo(NetworkLab lab) {
        lab.setNat(Host.NAT_2, NatVariant.SYMMETRIC);

        List<String> outcomes = splice(lab, Host.HOME_1, Host.HOME_2, 4);

        for (String outcome : outcomes) {
            assertThat(outcome).as(outcome).startsWith("failed NO_CONNECTION no connection to");
        }
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    private static String open(NetworkLab lab) {
        ProcessBuilder open = lab.processBuilder(Host.DESKTOP, probe("open", registryUrl, dir.resolve("keys").toString(), MEMBER));
        NetworkLab.ExecResult result = run(lab, open);
        assertThat(result.ok()).as(result.stdout() + result.stderr()).isTrue();
        return result.stdout().strip();
    }

    /** Opens a rendezvous, then runs both sides at once; their outputs, initiator first. */
    private static List<String> splice(NetworkLab lab, Host initiator, Host peer, int windowSeconds) {
        String id = open(lab);
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> first = sides.submit(() -> side(lab, initiator, id, "initiator", dir.resolve("keys").toString(), 60, windowSeconds));
            Future<String> second = sides.submit(() -> side(lab, peer, id, "peer", MEMBER, 60, windowSeconds));
            return List.of(first.get(), second.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private static String side(NetworkLab lab, Host host, String id, String side, String keysOrPeer, int patience, int window) {
        NetworkLab.ExecResult result = run(lab, lab.processBuilder(host, probe("splice", registryUrl, id, side, keysOrPeer,
                Integer.toString(patience), Integer.toString(window))));
        assertThat(result.ok()).as("%s on %s: %s", side, host, result.stderr()).isTrue();
        return result.stdout().strip();
    }

    private static List<String> probe(String... arguments) {
        List<String> command = new ArrayList<>(NetworkLab.javaCommand("-Xmx96m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), SpliceProbe.class.getName()));
        command.addAll(List.of(arguments));
        return command;
    }

    private static NetworkLab.ExecResult run(NetworkLab lab, ProcessBuilder builder) {
        // The peer's password in its environment, as a spawner passes it, never on a command line.
        builder.environment().put("FABRIC_OTP", OTP);
        return lab.exec(builder);
    }
}
