package dev.fabric.spawner.launch.ssh;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real OpenSSH server for a test class: Debian's {@code sshd} on a loopback port, run as root with
 * a host key, a client key in its authorized keys and a second key it does not know, all generated
 * in the test's directory. Members it starts live under {@link #remoteDirectory()}; {@link #close()}
 * ends them and the server.
 *
 * <p>Its logins get a home of their own, {@link #home()} (sshd_config's {@code SetEnv HOME}): OpenSSH
 * runs every command through the account's shell, and bash reads {@code ~/.bashrc} first, so root's
 * start-up files on the test machine would run before each of the launcher's commands. A slow one
 * slows every command; one that hangs (a pyenv set-up in root's {@code .bashrc} waits 60 s on a stale
 * rehash lock left by a killed shell) made every command of a CI run wait a minute, and the ssh tests
 * fail. The empty home keeps the tests to what they test.
 *
 * <p>Skipped where it cannot run (not root, or no {@code /usr/sbin/sshd}); failed instead when
 * {@code FABRIC_REQUIRE_SSH=1} (CI sets it; {@code docker/base/rig.sh} installs {@code openssh-server}).
 */
final class Sshd implements AutoCloseable {

    static final Path SSHD = Path.of("/usr/sbin/sshd");
    static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

    final Path dir;
    final int port;
    /** The key the server's authorized keys list (root's). */
    final Path clientKey;
    /** A key the server does not know. */
    final Path wrongKey;
    /** Lists the server's host key as {@code [127.0.0.1]:port}. */
    final Path knownHosts;
    /** Lists nothing. */
    final Path emptyKnownHosts;
    final Path hostPublicKey;
    /** The HOME of its logins: the directory whose {@code .bashrc} bash reads before a command. */
    final Path home;
    private final Process server;

    /** Skips (or, under FABRIC_REQUIRE_SSH=1, fails) the calling test class when sshd cannot run here. */
    static void assumeAvailable() {
        String missing = !"root".equals(System.getProperty("user.name")) ? "the tests do not run as root"
                : !Files.isExecutable(SSHD) ? SSHD + " is not installed" : !Files.isExecutable(SSH_KEYGEN) ? SSH_KEYGEN + " is not installed" : null;
        if (missing != null && "1".equals(System.getenv("FABRIC_REQUIRE_SSH"))) {
            fail("a private sshd cannot run (" + missing + ") but FABRIC_REQUIRE_SSH=1; run docker/base/rig.sh as root "
                    + "(it installs openssh-server)");
        }
        assumeTrue(missing == null, "a private sshd cannot run (" + missing + "); skipped (root and openssh-server run it)");
    }

    Sshd(Path dir) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir);
        Files.createDirectories(remoteDirectory());
        home = Files.createDirectories(dir.resolve("home"));
        keygen(dir.resolve("ssh_host_ed25519_key"));
        clientKey = dir.resolve("id_ed25519");
        keygen(clientKey);
        wrongKey = dir.resolve("wrong_ed25519");
        keygen(wrongKey);
        Files.copy(dir.resolve("id_ed25519.pub"), dir.resolve("authorized_keys"));
        hostPublicKey = dir.resolve("ssh_host_ed25519_key.pub");
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, "[127.0.0.1]:" + port + " " + Files.readString(hostPublicKey, StandardCharsets.UTF_8));
        emptyKnownHosts = dir.resolve("known_hosts.empty");
        Files.writeString(emptyKnownHosts, "");
        Path config = dir.resolve("sshd_config");
        Files.writeString(config, String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("ssh_host_ed25519_key"),
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PidFile " + dir.resolve("sshd.pid"),
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PermitUserEnvironment no",
                "Subsystem sftp internal-sftp",
                "SetEnv HOME=" + home,
                "LogLevel VERBOSE", ""));
        Files.createDirectories(Path.of("/run/sshd"));
        server = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sshd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!server.isAlive()) {
                throw new IllegalStateException("sshd exited with " + server.exitValue() + ": " + Files.readString(dir.resolve("sshd.log")));
            }
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("sshd does not listen on 127.0.0.1:" + port + ": " + Files.readString(dir.resolve("sshd.log")));
                }
                Thread.sleep(50);
            }
        }
    }

    /** The fabric directory members on this "host" get. */
    Path remoteDirectory() {
        return dir.resolve("remote");
    }

    /** The Java 25 the members run with: this JVM's. */
    static String java() {
        return ProcessHandle.current().info().command().orElse("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    }

    /** Spawner settings for a host named {@code name} on this server, every setting right; {@code overrides} replace some. */
    List<String> hostProperties(String name, String... overrides) {
        String prefix = "--fabric.spawner.ssh.hosts." + name + ".";
        java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
        values.put("address", "127.0.0.1");
        values.put("port", Integer.toString(port));
        values.put("user", "root");
        values.put("identity", clientKey.toString());
        values.put("known-hosts", knownHosts.toString());
        values.put("java", java());
        values.put("directory", remoteDirectory().toString());
        for (int i = 0; i + 1 < overrides.length; i += 2) {
            values.put(overrides[i], overrides[i + 1]);
        }
        return values.entrySet().stream().map(e -> prefix + e.getKey() + "=" + e.getValue()).toList();
    }

    /** Runs {@code command} on this server as root with OpenSSH's client, and returns what it printed (stdout and stderr). */
    String run(String command) throws Exception {
        Process ssh = new ProcessBuilder("ssh", "-i", clientKey.toString(), "-p", Integer.toString(port),
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "root@127.0.0.1", command).redirectErrorStream(true).start();
        String output = new String(ssh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ssh.waitFor(60, TimeUnit.SECONDS) || ssh.exitValue() != 0) {
            throw new IllegalStateException("ssh " + command + " failed: " + output);
        }
        return output;
    }

    private static void keygen(Path key) throws Exception {
        Process keygen = new ProcessBuilder(SSH_KEYGEN.toString(), "-q", "-t", "ed25519", "-N", "", "-C", "fabric-test", "-f", key.toString())
                .redirectErrorStream(true).start();
        String output = new String(keygen.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (keygen.waitFor() != 0) {
            throw new IllegalStateException("ssh-keygen failed: " + output);
        }
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }

    /** Members started under this server's directory (their working directory is there). */
    List<ProcessHandle> members() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("-Dfabric.member.id="))
                .filter(p -> {
                    try {
                        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).startsWith(remoteDirectory());
                    } catch (IOException | UnsupportedOperationException e) {
                        return false;
                    }
                })
                .toList();
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("sshd.log"));
    }

    @Override
    public void close() throws Exception {
        members().forEach(ProcessHandle::destroyForcibly);
        server.destroy();
        if (!server.waitFor(10, TimeUnit.SECONDS)) {
            server.destroyForcibly();
        }
    }
}
