package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.fabric.testsupport.NetworkLab.Host;

/** Removing the lab leaves nothing behind: no namespace, no rule, no process, no file. */
@RequiresNetworkLab
class NetworkLabTeardownIT {

    private static final String PREFIX = NetworkLab.prefixFor(NetworkLabTeardownIT.class).replace("fl", "fd");

    @TempDir
    Path logs;

    @Test
    void closeRemovesNamespacesRulesProcessesAndFiles() throws Exception {
        NetworkLab lab = NetworkLab.start(PREFIX);
        lab.setMode(Host.HEAD, NetworkLab.Mode.FIREWALL_BOTH);
        lab.cut(Host.HEAD, Host.COMPUTE_2);
        // A process the lab did not start itself: close must end it too.
        Process sleeper = lab.processBuilder(Host.COMPUTE_2, java.util.List.of("sleep", "600")).start();
        Path directory = lab.directory();
        assertThat(namespaces()).contains(PREFIX + "-head");

        lab.close();

        assertThat(sleeper.waitFor(30, TimeUnit.SECONDS)).as("the process inside compute-2 ended").isTrue();
        assertNothingLeft(directory);
        assertThat(rootNamespaceRules()).as("the machine's own rules never held lab rules").doesNotContain("FABLAB", "mode 2:", "mode 3:");
    }

    @Test
    void downRemovesWhatAFailedRunLeft() throws Exception {
        // What a run killed half-way through up leaves: some namespaces, a hosts file, the directory.
        run("ip", "netns", "add", PREFIX + "-gateway");
        run("ip", "netns", "add", PREFIX + "-net-site");
        Files.createDirectories(Path.of("/etc/netns", PREFIX + "-gateway"));
        Path directory = Files.createDirectories(Path.of("/run/fabric-lab", PREFIX, "ssh"));

        NetworkLab.down(PREFIX);
        NetworkLab.down(PREFIX);

        assertNothingLeft(directory.getParent());
    }

    @Test
    void startOverALeftoverBuildsACleanLab() throws Exception {
        run("ip", "netns", "add", PREFIX + "-head");
        try (NetworkLab lab = NetworkLab.start(PREFIX)) {
            assertThat(lab.probe(Host.GATEWAY, Host.HEAD, 22)).isEqualTo(NetworkLab.Reach.OPEN);
        }
        assertNothingLeft(Path.of("/run/fabric-lab", PREFIX));
    }

    @Test
    void downLeavesOtherNamespacesAlone() throws Exception {
        String other = PREFIX + "x-head";
        run("ip", "netns", "add", other);
        try {
            NetworkLab.down(PREFIX);
            assertThat(namespaces()).contains(other);
        } finally {
            run("ip", "netns", "del", other);
        }
    }

    private static void assertNothingLeft(Path directory) throws IOException, InterruptedException {
        assertThat(namespaces()).noneMatch(name -> name.startsWith(PREFIX + "-"));
        try (var entries = Files.list(Path.of("/etc/netns"))) {
            assertThat(entries.map(path -> path.getFileName().toString())).noneMatch(name -> name.startsWith(PREFIX + "-"));
        } catch (java.nio.file.NoSuchFileException absent) {
            // no /etc/netns at all: nothing left there
        }
        assertThat(directory).doesNotExist();
    }

    private static java.util.List<String> namespaces() throws IOException, InterruptedException {
        return run("ip", "netns", "list").lines().map(line -> line.split(" ")[0]).toList();
    }

    private static String rootNamespaceRules() throws IOException, InterruptedException {
        return run("iptables-save") + run("iptables-save", "-t", "raw");
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
        return output;
    }
}
