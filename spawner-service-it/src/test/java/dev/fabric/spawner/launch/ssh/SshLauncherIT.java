package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.FabricUnderTest;
import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Resources;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The ssh launcher alone against a real OpenSSH server on loopback: staging, the password's way to
 * the member, exit status and signal detection, the log read back over SFTP, stop, adoption.
 * The whole fabric over SSH is {@link SshSpawnIT}.
 */
class SshLauncherIT {

    static final Path DISTRIBUTION = FabricUnderTest.SPAWNER_JAR;

    @TempDir
    static Path dir;

    static Sshd sshd;
    static SshLauncher launcher;

    @BeforeAll
    static void start() throws Exception {
        Sshd.assumeAvailable();
        sshd = new Sshd(dir.resolve("sshd"));
        SshLauncherProperties.Host host = new SshLauncherProperties.Host("127.0.0.1", sshd.port, "root", sshd.clientKey,
                sshd.knownHosts, HostKeyPolicy.STRICT, Sshd.java(), sshd.remoteDirectory().toString(), "", "", "47100-47999", List.of(), false);
        launcher = new SshLauncher(new SshLauncherProperties(Map.of("loop", host), "", Duration.ofSeconds(10), Duration.ofMinutes(2),
                Duration.ofMillis(500), ""), () -> DISTRIBUTION);
    }

    @AfterAll
    static void stop() throws Exception {
        if (launcher != null) {
            launcher.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    /** A member in mode 3: it waits to be dialed, so it stays up until stopped. */
    static LaunchSpec waitingMember(String id, OneTimePassword otp) {
        return new LaunchSpec(id, 1, "queue", Connectivity.FIREWALL_FROM_SERVICE, Resources.DEFAULT, Map.of(
                MemberEnvironment.SERVICE_ID, id,
                MemberEnvironment.INCARNATION, "1",
                MemberEnvironment.ROLE, "queue",
                MemberEnvironment.SPAWNER_URL, "http://127.0.0.1:9",
                MemberEnvironment.SPAWNER_ID, "spawner-test",
                MemberEnvironment.REGISTRY_URL, "http://127.0.0.1:9",
                MemberEnvironment.CONNECTIVITY, Connectivity.FIREWALL_FROM_SERVICE.name()), otp, "loop");
    }

    static long pid(LaunchedMember member) {
        return Long.parseLong(member.metadata().get("pid"));
    }

    static String commandLine(long pid) throws Exception {
        return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    @Test
    void theDistributionIsStagedOnceWithItsChecksumAndThePasswordTravelsOnStandardInput() throws Exception {
        OneTimePassword otp = password();
        LaunchedMember member = launcher.launch(waitingMember("queue-stdin", otp));
        long pid = pid(member);
        String staged = "spawner-service-" + Staging.sha256(DISTRIBUTION).substring(0, 16) + ".jar";
        Path jar = sshd.remoteDirectory().resolve("dist").resolve(staged);
        assertThat(Staging.sha256(jar)).isEqualTo(Staging.sha256(DISTRIBUTION));
        assertThat(member.metadata()).containsEntry("launcher", "ssh").containsEntry("host", "loop")
                .containsEntry("log", sshd.remoteDirectory().resolve("members/queue-stdin/member.log").toString());

        // The member has the password in its environment (readable by its user alone); no process has it on its command line.
        assertThat(FabricUnderTest.environmentOf(pid)).containsEntry(MemberEnvironment.OTP, otp.reveal());
        assertThat(commandLine(pid)).contains("-Dfabric.member.id=queue-stdin ");
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))).noneMatch(c -> c.contains(otp.reveal()));
        assertThat(Files.getPosixFilePermissions(sshd.remoteDirectory().resolve("members/queue-stdin")))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));

        // A second launch finds the same checksum there and copies nothing.
        FileTime copied = Files.getLastModifiedTime(jar);
        LaunchedMember second = launcher.launch(waitingMember("queue-second", password()));
        assertThat(Files.getLastModifiedTime(jar)).isEqualTo(copied);

        // Its output is in its log on the host, read back over SFTP.
        ServiceInstance registered = instance("queue-stdin", member.metadata());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!launcher.logTail(registered, 4096).orElseThrow().text().contains("waiting for the spawner to dial") && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(launcher.logTail(registered, 4096).orElseThrow().text()).contains("waiting for the spawner to dial");
        assertThat(launcher.logTail(registered, 1 << 20).orElseThrow().text()).contains("incarnation 1 of queue-stdin (role queue) on host loop");
        Map<String, String> forged = new HashMap<>(member.metadata());
        forged.put("log", "/etc/shadow");
        assertThatThrownBy(() -> launcher.logTail(instance("queue-stdin", forged), 4096))
                .isInstanceOf(LaunchException.class).hasMessageContaining("outside its member directory");

        member.stop(Duration.ofSeconds(10));
        assertThat(member.outcome().get(30, TimeUnit.SECONDS)).isInstanceOf(LaunchOutcome.Killed.class)
                .extracting(o -> ((LaunchOutcome.Killed) o).signal()).isEqualTo(15);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(Optional.of(true));
        second.stop(Duration.ofSeconds(10));
    }

    @Test
    void theRigsLoginsReadTheirStartUpFilesFromAHomeOfTheirOwnNotTheAccounts() throws Exception {
        Files.writeString(sshd.home.resolve(".bashrc"), "export FABRIC_RIG_BASHRC=read\n");

        assertThat(sshd.run("echo \"$HOME $FABRIC_RIG_BASHRC\"").strip()).isEqualTo(sshd.home + " read");
    }

    @Test
    void aMemberKilledWithSignal9IsSeenOnItsChannel() throws Exception {
        LaunchedMember member = launcher.launch(waitingMember("queue-kill", password()));
        ProcessHandle.of(pid(member)).orElseThrow().destroyForcibly();
        LaunchOutcome outcome = member.outcome().get(30, TimeUnit.SECONDS);
        assertThat(outcome).isEqualTo(new LaunchOutcome.Killed(9, "SIGKILL on host loop"));
    }

    @Test
    void aMemberThatExitsReportsItsExitStatus() throws Exception {
        // Without a role the member cannot start: it exits with BAD_ENVIRONMENT (80).
        LaunchSpec spec = waitingMember("queue-exit", password());
        Map<String, String> environment = new java.util.HashMap<>(spec.environment());
        environment.remove(MemberEnvironment.ROLE);
        LaunchedMember member = launcher.launch(new LaunchSpec(spec.serviceId(), 1, "queue", spec.connectivity(), spec.resources(),
                environment, spec.otp(), "loop"));
        assertThat(member.outcome().get(60, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Exited(80));
    }

    @Test
    void anAdoptedMemberIsFoundByItsPidAndWatchedUntilItEnds() throws Exception {
        LaunchedMember member = launcher.launch(waitingMember("queue-adopt", password()));
        ServiceInstance registered = instance("queue-adopt", member.metadata());

        LaunchedMember adopted = launcher.adopt(registered).orElseThrow();
        assertThat(adopted.metadata()).containsEntry("pid", member.metadata().get("pid"));
        // Another member's pid is not this member.
        assertThat(launcher.adopt(instance("queue-other", member.metadata()))).isEmpty();

        adopted.stop(Duration.ofSeconds(10));
        assertThat(adopted.outcome().get(30, TimeUnit.SECONDS)).isEqualTo(new LaunchOutcome.Vanished());
        assertThat(member.outcome().get(30, TimeUnit.SECONDS)).isInstanceOf(LaunchOutcome.Killed.class);
        assertThat(launcher.adopt(registered)).isEmpty();
    }

    @Test
    void aHostWithoutJavaGetsARuntimeStagedWhenStageJavaIsOnAndAClearFailureWhenItIsOff() throws Exception {
        // A small Java 25 runtime (java.base alone) stands for the spawner's own: the staging is the same, the copy quicker.
        Path runtime = dir.resolve("runtime");
        int linked = java.util.spi.ToolProvider.findFirst("jlink").orElseThrow().run(System.out, System.err, "--add-modules", "java.base",
                "--strip-debug", "--no-man-pages", "--no-header-files", "--output", runtime.toString());
        assertThat(linked).isZero();
        Path remote = dir.resolve("no-java-host");
        RemoteHost withStaging = noJavaHost(remote, true);
        JavaRuntime packed = JavaRuntime.pack(runtime);
        // Packing is deterministic: the same runtime, the same checksum, so every host names it alike.
        assertThat(JavaRuntime.pack(runtime).checksum()).isEqualTo(packed.checksum());
        Staging staging = new Staging(DISTRIBUTION, () -> packed);

        String java;
        try (var session = withStaging.connect()) {
            java = staging.stage(withStaging, session);
        }
        Path staged = remote.resolve("jdk").resolve(packed.directoryName());
        assertThat(java).isEqualTo(remote + "/jdk/" + packed.directoryName() + "/bin/java");
        Process version = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
        assertThat(new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("version \"25");
        assertThat(Files.list(remote.resolve("jdk")).map(p -> p.getFileName().toString())).containsExactly(packed.directoryName());

        // Staged once: the next launch finds it and copies nothing.
        FileTime unpacked = Files.getLastModifiedTime(staged.resolve("bin/java"));
        try (var session = withStaging.connect()) {
            assertThat(staging.stage(withStaging, session)).isEqualTo(java);
        }
        assertThat(Files.getLastModifiedTime(staged.resolve("bin/java"))).isEqualTo(unpacked);

        // Without stage-java, no Java stays a clear failure that says what to do.
        RemoteHost withoutStaging = noJavaHost(dir.resolve("no-java-host-2"), false);
        try (var session = withoutStaging.connect()) {
            assertThatThrownBy(() -> staging.stage(withoutStaging, session)).isInstanceOf(LaunchException.class)
                    .hasMessageContaining("no Java on host no-java").hasMessageContaining("stage-java=true");
        }
        assertThat(dir.resolve("no-java-host-2").resolve("jdk")).doesNotExist();
    }

    private static RemoteHost noJavaHost(Path remote, boolean stageJava) {
        return new RemoteHost("no-java", new SshLauncherProperties.Host("127.0.0.1", sshd.port, "root", sshd.clientKey, sshd.knownHosts,
                HostKeyPolicy.STRICT, remote.resolve("no/such/bin/java").toString(), remote.toString(), "", "", "47100-47999", List.of(),
                stageJava), Duration.ofSeconds(10), Duration.ofMinutes(2));
    }

    static ServiceInstance instance(String id, Map<String, String> metadata) {
        return new ServiceInstance(id, "queue", null, InstanceState.RUNNING, null, 1, "spawner-test", Connectivity.FIREWALL_FROM_SERVICE,
                Map.of(), metadata, null, null, null);
    }

    static OneTimePassword password() {
        byte[] bytes = new byte[32];
        new java.security.SecureRandom().nextBytes(bytes);
        return OneTimePassword.of(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    static RemoteHost host(Path knownHosts, HostKeyPolicy policy) {
        return new RemoteHost("first-contact", new SshLauncherProperties.Host("127.0.0.1", sshd.port, "root", sshd.clientKey,
                knownHosts, policy, Sshd.java(), sshd.remoteDirectory().toString(), "", "", "47100-47999", List.of(), false),
                Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    @Test
    void aFirstContactIsRecordedOnlyUnderAcceptNewAndAChangedKeyIsAlwaysRefused() throws Exception {
        Path recorded = dir.resolve("recorded_known_hosts");
        try (RemoteHost strict = host(recorded, HostKeyPolicy.STRICT)) {
            assertThatThrownBy(() -> strict.run("true")).isInstanceOf(dev.fabric.spawner.launch.LaunchException.class)
                    .hasMessageContaining("unknown host key: host first-contact").hasMessageContaining("host-key-policy is strict");
        }
        assertThat(recorded).doesNotExist();

        try (RemoteHost acceptNew = host(recorded, HostKeyPolicy.ACCEPT_NEW_AND_RECORD)) {
            assertThat(acceptNew.run("true").succeeded()).isTrue();
        }
        String hostKey = Files.readString(sshd.hostPublicKey).split(" ")[1];
        assertThat(Files.readString(recorded)).contains("[127.0.0.1]:" + sshd.port).contains(hostKey);
        // Once recorded, the key is known: strict accepts it.
        try (RemoteHost strict = host(recorded, HostKeyPolicy.STRICT)) {
            assertThat(strict.run("true").succeeded()).isTrue();
        }

        // A file that lists another key for the host: refused under either policy, the file untouched.
        Path changed = dir.resolve("changed_known_hosts");
        String otherKey = Files.readString(sshd.dir.resolve("wrong_ed25519.pub")).split(" ")[1];
        Files.writeString(changed, "[127.0.0.1]:" + sshd.port + " ssh-ed25519 " + otherKey + "\n");
        for (HostKeyPolicy policy : HostKeyPolicy.values()) {
            try (RemoteHost host = host(changed, policy)) {
                assertThatThrownBy(() -> host.run("true")).hasMessageContaining("changed host key: host first-contact")
                        .hasMessageContaining("man in the middle");
            }
        }
        assertThat(Files.readString(changed)).doesNotContain(hostKey);
    }

    /**
     * A session refused during key exchange closes by itself, and closing clears its attributes: the reason must
     * still be there when the launcher asks after the close (it once lived on the session, and was lost when the
     * close came first, which left "Server key did not validate" alone).
     */
    @Test
    void theReasonForARefusedKeyOutlivesTheRefusedSession() throws Exception {
        Path changed = dir.resolve("changed_again_known_hosts");
        String otherKey = Files.readString(sshd.dir.resolve("wrong_ed25519.pub")).split(" ")[1];
        Files.writeString(changed, "[127.0.0.1]:" + sshd.port + " ssh-ed25519 " + otherKey + "\n");
        KnownHosts knownHosts = new KnownHosts("first-contact", changed, HostKeyPolicy.ACCEPT_NEW_AND_RECORD);
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(knownHosts);
        client.start();
        try (ClientSession session = client.connect("root", "127.0.0.1", sshd.port).verify(Duration.ofSeconds(10)).getSession()) {
            assertThatThrownBy(() -> session.auth().verify(Duration.ofSeconds(10))).hasMessageContaining("did not validate");
            session.waitFor(EnumSet.of(ClientSession.ClientSessionEvent.CLOSED), Duration.ofSeconds(10));
            assertThat(session.isClosed()).isTrue();

            assertThat(knownHosts.refusalOf(session)).contains("changed host key: host first-contact").contains(changed.toString());
            assertThat(knownHosts.refusalOf(session)).as("told once").isNull();
        } finally {
            client.stop();
        }
    }
}
