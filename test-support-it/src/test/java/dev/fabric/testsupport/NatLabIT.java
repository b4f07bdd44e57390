package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.NatVariant;
import dev.fabric.testsupport.NetworkLab.Reach;

/**
 * The lab's NAT routers do what docs/lab.md says of each variant (issue 15): what the public network
 * observes of a home host's connections, what becomes of an unsolicited SYN, and whether two home hosts
 * dialing each other from a bound port at once (TCP simultaneous open, as a splice does) connect.
 * {@link LabTcp} does the observing and the dialing, inside the hosts.
 */
@RequiresNetworkLab
class NatLabIT {

    private static final int OBSERVER_PORT = 19200;
    /** Long enough for both sides' JVMs to start under load; a success ends it early. */
    private static final Duration SPLICE_PATIENCE = Duration.ofSeconds(20);
    /** For dials that are meant to fail. */
    private static final Duration FAILURE_PATIENCE = Duration.ofSeconds(6);

    @TempDir
    static Path logs;

    @BeforeAll
    static void observers(NetworkLab lab) {
        // Two observers on the public network, as a broker sees a connection's source.
        for (Host host : List.of(Host.PUBLIC, Host.DESKTOP)) {
            lab.startProcess(host, NetworkLab.labTcpCommand("observe", String.valueOf(OBSERVER_PORT)),
                    logs.resolve(host.labName() + ".log"));
        }
        for (Host host : List.of(Host.PUBLIC, Host.DESKTOP)) {
            lab.awaitListening(host, OBSERVER_PORT, Duration.ofSeconds(60));
        }
    }

    @AfterEach
    void everyNatEasyAgain(NetworkLab lab) {
        lab.resetNats();
    }

    @Test
    void anEasyNatKeepsTheInsidePortForEveryDestination(NetworkLab lab) {
        assertThat(ask(lab, Host.HOME_1, 40100, Host.PUBLIC)).isEqualTo("10.14.1.31:40100");
        assertThat(ask(lab, Host.HOME_1, 40100, Host.DESKTOP))
                .as("the same mapping towards another destination: endpoint-independent").isEqualTo("10.14.1.31:40100");
    }

    @Test
    void anEasyNatDropsUnsolicitedSyns(NetworkLab lab) {
        assertThat(lab.probe(Host.PUBLIC, Host.NAT_1, 40101)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.PUBLIC, Host.HOME_1, 22)).as("no route to a home network").isEqualTo(Reach.UNREACHABLE);
        assertThat(lab.probe(Host.DESKTOP, Host.NAT_1, 22)).as("the router's own SSH stays open").isEqualTo(Reach.OPEN);
    }

    @Test
    void aResettingNatAnswersUnsolicitedSynsWithAReset(NetworkLab lab) {
        lab.setNat(Host.NAT_1, NatVariant.RESETTING);

        assertThat(lab.probe(Host.PUBLIC, Host.NAT_1, 40102)).isEqualTo(Reach.REFUSED);
        assertThat(ask(lab, Host.HOME_1, 40102, Host.PUBLIC)).as("its mapping is easy").isEqualTo("10.14.1.31:40102");
    }

    @Test
    void aSymmetricNatGivesEveryConnectionAPortOfItsOwn(NetworkLab lab) {
        lab.setNat(Host.NAT_2, NatVariant.SYMMETRIC);

        String towardsPublic = ask(lab, Host.HOME_2, 40103, Host.PUBLIC);
        String towardsDesktop = ask(lab, Host.HOME_2, 40103, Host.DESKTOP);

        assertThat(towardsPublic).startsWith("10.14.1.32:");
        assertThat(towardsDesktop).startsWith("10.14.1.32:").isNotEqualTo(towardsPublic);
        assertThat(lab.probe(Host.PUBLIC, Host.NAT_2, 40103)).isEqualTo(Reach.TIMEOUT);
    }

    @Test
    void crossingSynsSpliceTwoHostsBehindEasyNats(NetworkLab lab) {
        List<String> outcomes = splice(lab, Host.HOME_1, Host.HOME_2, 40104, SPLICE_PATIENCE);

        // Each side's connection runs from its own inside address to the other's NAT: no relay between.
        assertThat(outcomes.get(0)).isEqualTo("spliced 10.14.4.10:40104 10.14.1.32:40104");
        assertThat(outcomes.get(1)).isEqualTo("spliced 10.14.5.10:40104 10.14.1.31:40104");
    }

    @Test
    void aSymmetricNatDefeatsSplicing(NetworkLab lab) {
        lab.setNat(Host.NAT_2, NatVariant.SYMMETRIC);

        List<String> outcomes = splice(lab, Host.HOME_1, Host.HOME_2, 40105, FAILURE_PATIENCE);

        assertThat(outcomes).allSatisfy(outcome -> assertThat(outcome).startsWith("failed"));
    }

    @Test
    void aLoneDialIsResetByAResettingNatAndTimesOutAtAnEasyOne(NetworkLab lab) {
        lab.setNat(Host.NAT_2, NatVariant.RESETTING);
        assertThat(dialAlone(lab, Host.HOME_1, Host.NAT_2, 40106)).containsIgnoringCase("refused");

        lab.setNat(Host.NAT_2, NatVariant.EASY);
        assertThat(dialAlone(lab, Host.HOME_1, Host.NAT_2, 40107)).isEqualTo("failed timeout");
    }

    @Test
    void twoNatsInARowStillSpliceWhenBothAreEasy(NetworkLab lab) {
        assertThat(ask(lab, Host.HOME_3, 40108, Host.PUBLIC)).as("masqueraded by nat-3, then by nat-1").isEqualTo("10.14.1.31:40108");

        List<String> outcomes = splice(lab, Host.HOME_3, Host.HOME_2, 40109, SPLICE_PATIENCE);

        assertThat(outcomes.get(0)).isEqualTo("spliced 10.14.6.10:40109 10.14.1.32:40109");
        assertThat(outcomes.get(1)).isEqualTo("spliced 10.14.5.10:40109 10.14.1.31:40109");
    }

    @Test
    void latencyIsAddedOnTheRoutersPublicSide(NetworkLab lab) {
        Assumptions.assumeTrue(lab.exec(Host.NAT_1, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").ok(),
                "this kernel has no netem queueing discipline (sch_netem): the lab's latency is optional");
        lab.exec(Host.NAT_1, "tc", "qdisc", "del", "dev", "lo", "root");
        lab.setNat(Host.NAT_1, NatVariant.EASY, Duration.ofMillis(25));

        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-public").stdout()).contains("netem", "delay 25");
        assertThat(ask(lab, Host.HOME_1, 40110, Host.PUBLIC)).isEqualTo("10.14.1.31:40110");

        lab.setNat(Host.NAT_1, NatVariant.EASY);
        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-public").stdout()).doesNotContain("netem");
    }

    @Test
    void aRateLimitsTheHomesAccessLinkBothWaysUntilTheNatIsReset(NetworkLab lab) {
        Assumptions.assumeTrue(lab.exec(Host.NAT_1, "tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "1mbit", "burst", "64kb",
                "latency", "50ms").ok(), "this kernel has no token bucket queueing discipline (sch_tbf)");
        lab.exec(Host.NAT_1, "tc", "qdisc", "del", "dev", "lo", "root");

        lab.setNat(Host.NAT_1, NatVariant.EASY, Duration.ZERO, 100);

        // Upload (out of the public side) and download (into the home network), each a token bucket of 100 Mbit/s.
        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-public").stdout()).contains("tbf", "rate 100Mbit");
        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-home1").stdout()).contains("tbf", "rate 100Mbit");
        assertThat(ask(lab, Host.HOME_1, 40111, Host.PUBLIC)).as("still an easy NAT").isEqualTo("10.14.1.31:40111");

        assertThatThrownBy(() -> lab.setNat(Host.NAT_1, NatVariant.EASY, Duration.ZERO, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lab.run("nat", "nat-1", "easy", "--rate", "fast")).hasMessageContaining("--rate must be whole Mbit/s");
        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-public").stdout()).as("a refused rate changes nothing")
                .contains("rate 100Mbit");

        lab.resetNats();
        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-public").stdout()).doesNotContain("tbf");
        assertThat(lab.exec(Host.NAT_1, "tc", "qdisc", "show", "dev", "eth-home1").stdout()).doesNotContain("tbf");
    }

    @Test
    void aLongRunningCommandDoesNotHoldUpAnother(NetworkLab lab) throws Exception {
        // As many long commands as the common pool has threads: each held one reading its errors.
        int blockers = java.util.concurrent.ForkJoinPool.commonPool().getParallelism();
        List<Path> pids = new java.util.ArrayList<>();
        try (ExecutorService background = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                for (int i = 0; i < blockers; i++) {
                    Path pid = logs.resolve("blocker-" + i + ".pid");
                    pids.add(pid);
                    background.submit(() -> lab.exec(Host.PUBLIC, "bash", "-c", "echo $$ > " + pid + "; exec sleep 600"));
                }
                for (int i = 0; i < 600 && !pids.stream().allMatch(java.nio.file.Files::exists); i++) {
                    Thread.sleep(100);
                }

                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> lab.exec(Host.DESKTOP, "true"),
                        "a short command waited for the long ones");
            } finally {
                // Before the executor's close waits for them.
                for (Path pid : pids) {
                    if (java.nio.file.Files.exists(pid)) {
                        lab.exec(Host.PUBLIC, "kill", java.nio.file.Files.readString(pid).strip());
                    }
                }
            }
        }
    }

    /** What an observer on {@code observer} saw of a connection from {@code localPort} of {@code from}. */
    private static String ask(NetworkLab lab, Host from, int localPort, Host observer) {
        NetworkLab.ExecResult result = lab.exec(from, NetworkLab.labTcpCommand("ask", String.valueOf(localPort),
                lab.address(observer, Host.PUBLIC), String.valueOf(OBSERVER_PORT)).toArray(String[]::new));
        assertThat(result.ok()).as("ask from %s: %s", from, result.stderr()).isTrue();
        return result.stdout().strip().replaceFirst("^observed ", "");
    }

    /** Both hosts dial each other's public address from {@code port} at once; what each says. */
    private static List<String> splice(NetworkLab lab, Host a, Host b, int port, Duration patience) {
        // A thread each: both sides must dial at the same time (the common pool may have one thread).
        try (ExecutorService sides = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> first = sides.submit(() -> dial(lab, a, publicAddress(b), port, patience));
            Future<String> second = sides.submit(() -> dial(lab, b, publicAddress(a), port, patience));
            return List.of(first.get(), second.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a side's dial failed", e.getCause());
        }
    }

    private static String dialAlone(NetworkLab lab, Host from, Host router, int port) {
        return dial(lab, from, lab.address(router, Host.PUBLIC), port, FAILURE_PATIENCE);
    }

    private static String dial(NetworkLab lab, Host from, String address, int port, Duration patience) {
        NetworkLab.ExecResult result = lab.exec(from, NetworkLab.labTcpCommand("splice", String.valueOf(port), address,
                String.valueOf(port), String.valueOf(patience.toSeconds())).toArray(String[]::new));
        assertThat(result.ok()).as("splice from %s: %s", from, result.stderr()).isTrue();
        return result.stdout().strip();
    }

    private static String publicAddress(Host home) {
        return switch (home) {
            case HOME_1, HOME_3 -> "10.14.1.31";
            case HOME_2 -> "10.14.1.32";
            default -> throw new IllegalArgumentException(home + " is behind no NAT");
        };
    }
}
