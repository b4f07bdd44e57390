package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.fabric.testsupport.NetworkLab.Host;
import dev.fabric.testsupport.NetworkLab.Mode;
import dev.fabric.testsupport.NetworkLab.Reach;

/**
 * The lab is what docs/lab.md says: routing as the seed's story has it, the modes realised by the
 * hosts' firewalls, an sshd on every host, link cuts. Listeners are the JDK's own HTTP file server.
 */
@RequiresNetworkLab
class NetworkLabIT {

    private static final int SERVICE_PORT = 8470;
    private static final int SSH_PORT = 22;

    @TempDir
    static Path logs;

    @BeforeAll
    static void listeners(NetworkLab lab) throws IOException {
        // A service on each of the hosts the tests connect to, as a fabric member would listen.
        for (Host host : List.of(Host.PUBLIC, Host.GATEWAY, Host.HEAD, Host.COMPUTE_1)) {
            Path root = Files.createDirectories(logs.resolve(host.labName()));
            lab.startProcess(host, NetworkLab.javaCommand("-m", "jdk.httpserver", "-b", "0.0.0.0",
                    "-p", String.valueOf(SERVICE_PORT), "-d", root.toString()), logs.resolve(host.labName() + ".log"));
        }
        for (Host host : List.of(Host.PUBLIC, Host.GATEWAY, Host.HEAD, Host.COMPUTE_1)) {
            lab.awaitListening(host, SERVICE_PORT, Duration.ofSeconds(60));
        }
    }

    @AfterEach
    void everyHostOpenAgain(NetworkLab lab) {
        // The hosts these tests put in a mode; the NATs and the hosts behind them are NatLabIT's.
        for (Host host : List.of(Host.PUBLIC, Host.DESKTOP, Host.GATEWAY, Host.HEAD, Host.COMPUTE_1, Host.COMPUTE_2)) {
            lab.setMode(host, Mode.OPEN);
        }
        lab.restore(Host.HEAD, Host.COMPUTE_1);
    }

    @Test
    void routingIsTheSeedsStory(NetworkLab lab) {
        // desktop and gateway share the public network with the registry's host
        assertThat(lab.probe(Host.DESKTOP, Host.GATEWAY, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.DESKTOP, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.GATEWAY, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        // head only from gateway
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.DESKTOP, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.UNREACHABLE);
        assertThat(lab.probe(Host.PUBLIC, Host.HEAD, SERVICE_PORT))
                .as("gateway forwards only replies towards head").isEqualTo(Reach.TIMEOUT);
        // head reaches the registry's host through gateway
        assertThat(lab.probe(Host.HEAD, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        // compute only from head, and sees nothing beyond the cluster network
        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.COMPUTE_2, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.GATEWAY, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.UNREACHABLE);
        assertThat(lab.probe(Host.COMPUTE_1, Host.DESKTOP, SSH_PORT)).isEqualTo(Reach.UNREACHABLE);
        assertThat(lab.probe(Host.COMPUTE_1, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.UNREACHABLE);
        assertThat(lab.probe(Host.COMPUTE_1, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.OPEN);
    }

    @Test
    void aClosedPortRefusesInModeOne(NetworkLab lab) {
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT + 1)).isEqualTo(Reach.REFUSED);
    }

    @Test
    void modeTwoDropsInboundConnectionsWithoutAReset(NetworkLab lab) {
        lab.setMode(Host.HEAD, Mode.FIREWALL_TO_SERVICE);

        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.COMPUTE_1, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT + 1))
                .as("a closed port behind the firewall does not answer with a reset either").isEqualTo(Reach.TIMEOUT);
        // SSH stays open, the service answers on the host itself, and the host still connects out
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SSH_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.HEAD, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.HEAD, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.OPEN);

        lab.setMode(Host.HEAD, Mode.OPEN);
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.OPEN);
    }

    @Test
    void modeThreeDropsOutboundConnectionsExceptToTheRegistry(NetworkLab lab) {
        lab.setMode(Host.HEAD, Mode.FIREWALL_FROM_SERVICE);

        assertThat(lab.probe(Host.HEAD, Host.PUBLIC, SERVICE_PORT)).as("the registry's host stays reachable").isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.HEAD, Host.GATEWAY, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        // inbound is untouched, and SSH out stays open for a launcher on the host
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, SSH_PORT)).isEqualTo(Reach.OPEN);
    }

    @Test
    void modeThreeAllowsTheNamedDestinationsOnly(NetworkLab lab) {
        lab.setMode(Host.COMPUTE_1, Mode.FIREWALL_FROM_SERVICE, List.of("head:" + SERVICE_PORT), "1024:65535");

        assertThat(lab.probe(Host.COMPUTE_1, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.COMPUTE_1, Host.HEAD, SERVICE_PORT + 1)).isEqualTo(Reach.TIMEOUT);
    }

    @Test
    void modeFourDropsBothWays(NetworkLab lab) {
        lab.setMode(Host.GATEWAY, Mode.FIREWALL_BOTH);

        assertThat(lab.probe(Host.DESKTOP, Host.GATEWAY, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.GATEWAY, Host.HEAD, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.GATEWAY, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.OPEN);
    }

    @Test
    void aCutLinkDropsBothWaysAndRestoreBringsItBack(NetworkLab lab) {
        lab.cut(Host.HEAD, Host.COMPUTE_1);

        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.COMPUTE_1, Host.HEAD, SSH_PORT)).isEqualTo(Reach.TIMEOUT);
        assertThat(lab.probe(Host.COMPUTE_2, Host.HEAD, SSH_PORT)).as("only that link is cut").isEqualTo(Reach.OPEN);

        lab.restore(Host.HEAD, Host.COMPUTE_1);

        assertThat(lab.probe(Host.HEAD, Host.COMPUTE_1, SERVICE_PORT)).isEqualTo(Reach.OPEN);
        assertThat(lab.probe(Host.COMPUTE_1, Host.HEAD, SSH_PORT)).isEqualTo(Reach.OPEN);
    }

    @Test
    void cuttingTheSiteLinkCutsHeadOffTheRegistry(NetworkLab lab) {
        lab.cut(Host.GATEWAY, Host.HEAD);
        try {
            assertThat(lab.probe(Host.HEAD, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.TIMEOUT);
        } finally {
            lab.restore(Host.GATEWAY, Host.HEAD);
        }
        assertThat(lab.probe(Host.HEAD, Host.PUBLIC, SERVICE_PORT)).isEqualTo(Reach.OPEN);
    }

    @Test
    void hostsThatShareNoNetworkHaveNoLinkToCut(NetworkLab lab) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> lab.cut(Host.DESKTOP, Host.HEAD))
                .hasMessageContaining("desktop and head share no network");
    }

    @Test
    void everySshdAnswersWithItsOwnHostKeyAndTheLabsKey(NetworkLab lab) {
        NetworkLab.Ssh ssh = lab.ssh();
        for (Host host : Host.values()) {
            Host from = switch (host) {
                case HEAD -> Host.GATEWAY;
                case COMPUTE_1, COMPUTE_2 -> Host.HEAD;
                case GATEWAY, PUBLIC, NAT_1, NAT_2 -> Host.DESKTOP;
                case DESKTOP -> Host.PUBLIC;
                case HOME_1, NAT_3 -> Host.NAT_1;
                case HOME_2 -> Host.NAT_2;
                case HOME_3 -> Host.NAT_3;
            };
            NetworkLab.ExecResult result = lab.exec(from, "ssh", "-i", ssh.privateKey().toString(),
                    "-o", "UserKnownHostsFile=" + ssh.knownHosts(), "-o", "StrictHostKeyChecking=yes",
                    "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                    ssh.user() + "@" + host.labName(), "ip", "-brief", "address");

            assertThat(result.ok()).as("ssh from %s to %s: %s", from, host, result.stderr()).isTrue();
            assertThat(result.stdout()).as("the shell on %s runs inside that host", host).contains(lab.address(host));
        }
    }

    @Test
    void loginsReadTheirStartUpFilesFromTheLabsHomeNotTheAccounts(NetworkLab lab) throws IOException {
        NetworkLab.Ssh ssh = lab.ssh();
        Files.writeString(ssh.home().resolve(".bashrc"), "export FABRIC_LAB_BASHRC=read\n");

        NetworkLab.ExecResult result = lab.exec(Host.DESKTOP, "ssh", "-i", ssh.privateKey().toString(),
                "-o", "UserKnownHostsFile=" + ssh.knownHosts(), "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "root@gateway", "echo \"$HOME $FABRIC_LAB_BASHRC\"");

        assertThat(result.ok()).as(result.stderr()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo(ssh.home() + " read");
    }

    @Test
    void anUnknownHostKeyIsRefused(NetworkLab lab) throws IOException {
        NetworkLab.Ssh ssh = lab.ssh();
        Path empty = Files.createFile(logs.resolve("empty_known_hosts"));

        NetworkLab.ExecResult result = lab.exec(Host.DESKTOP, "ssh", "-i", ssh.privateKey().toString(),
                "-o", "UserKnownHostsFile=" + empty, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "root@gateway", "true");

        assertThat(result.ok()).isFalse();
        assertThat(result.stderr()).contains("Host key verification failed");
    }

    @Test
    void insideAHostTheOtherHostsAreNamed(NetworkLab lab) {
        assertThat(lab.exec(Host.COMPUTE_1, "getent", "hosts", "head").stdout()).contains(lab.address(Host.HEAD, Host.COMPUTE_1));
        assertThat(lab.address(Host.HEAD, Host.COMPUTE_1)).isEqualTo("10.14.3.1");
        assertThat(lab.address(Host.HEAD, Host.GATEWAY)).isEqualTo("10.14.2.10");
    }
}
