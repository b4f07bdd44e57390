package dev.fabric.spawner.launch.ssh;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.AcceptAllPublickeyAuthenticator;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A host on loopback for the SSH launcher's fast tests: an in-process SSH server (Apache MINA SSHD)
 * that runs each command with {@code sh -c} as the test's user, and that can be told to leave the
 * next checks of a member unanswered, as a slow or failing host does: the session's channel closes
 * before the command says anything or exits. "Members" are {@code sh} processes whose command line
 * carries {@code -Dfabric.member.id=ID} as a member JVM's does ({@link #startMember}).
 */
public final class LoopbackSshd implements AutoCloseable {

    /** The name the launcher knows this host by. */
    public static final String HOST = "loop";

    /** How many of the next liveness checks ({@code kill -0} without a signal sent) go unanswered. */
    public final AtomicInteger checksToLeaveUnanswered = new AtomicInteger();
    /** How many of the next commands that stop a member ({@code kill -TERM}/{@code -KILL}) go unanswered. */
    public final AtomicInteger stopsToLeaveUnanswered = new AtomicInteger();
    /** Every liveness check the host was asked, answered or not. */
    public final AtomicInteger checks = new AtomicInteger();

    private final SshServer server;
    private final Path dir;
    private final List<Process> members = new ArrayList<>();
    public final SshLauncherProperties.Host host;

    public LoopbackSshd(Path dir) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir);
        server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(0);
        server.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(dir.resolve("host-key")));
        server.setPublickeyAuthenticator(AcceptAllPublickeyAuthenticator.INSTANCE);
        server.setCommandFactory((channel, command) -> command(command));
        server.start();
        KeyPair client = KeyUtils.generateKeyPair(KeyPairs.EC_P256, 256);
        Path key = dir.resolve("client-key");
        try (OutputStream out = Files.newOutputStream(key)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(client, "test", null, out);
        }
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("known_hosts"), "");
        host = new SshLauncherProperties.Host("127.0.0.1", server.getPort(), System.getProperty("user.name"), key,
                dir.resolve("known_hosts"), HostKeyPolicy.ACCEPT_NEW_AND_RECORD, "java", dir.resolve("fabric").toString(), "", "",
                "47100-47999", List.of(), false);
    }

    /** An SSH launcher that knows this host as {@value #HOST}, checking its members every {@code livenessInterval}. */
    public SshLauncher launcher(Duration livenessInterval) {
        return new SshLauncher(new SshLauncherProperties(Map.of(HOST, host), "", Duration.ofSeconds(10), Duration.ofSeconds(30),
                livenessInterval, ""), () -> {
                    throw new IllegalStateException("no distribution in this test");
                });
    }

    /**
     * Starts a process that looks like member {@code id}'s JVM to the launcher's checks: a shell, with
     * no child of its own, that waits on its standard input, so it ends with the test's JVM at the latest.
     */
    public synchronized Process startMember(String id) throws IOException {
        Process process = new ProcessBuilder("sh", "-c", "read line", "-Dfabric.member.id=" + id, "member")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        members.add(process);
        return process;
    }

    /**
     * The pids of the live processes of member {@code id} on this machine: those with the argument
     * {@code -Dfabric.member.id=ID} itself, as a member's JVM has it (a zombie has no command line).
     */
    public static List<Long> processesOf(String id) {
        try (Stream<Path> proc = Files.list(Path.of("/proc"))) {
            return proc.filter(p -> p.getFileName().toString().matches("[0-9]+")).filter(p -> {
                try {
                    String[] arguments = Files.readString(p.resolve("cmdline"), StandardCharsets.UTF_8).split("\0");
                    return List.of(arguments).contains("-Dfabric.member.id=" + id);
                } catch (IOException | RuntimeException gone) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Command command(String command) {
        boolean stop = command.contains("kill -TERM") || command.contains("kill -KILL");
        boolean check = command.contains("kill -0") && !stop;
        if (check) {
            checks.incrementAndGet();
        }
        if ((check && take(checksToLeaveUnanswered)) || (stop && take(stopsToLeaveUnanswered))) {
            return new Unanswered();
        }
        return new Shell(command);
    }

    private static boolean take(AtomicInteger count) {
        return count.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }

    @Override
    public synchronized void close() throws IOException {
        members.forEach(Process::destroyForcibly);
        members.forEach(process -> process.onExit().join());
        server.stop(true);
    }

    /** Key types as SSHD names them. */
    private static final class KeyPairs {
        static final String EC_P256 = "ecdsa-sha2-nistp256";
    }

    /** A command whose channel closes before it says anything or exits: a session that broke off. */
    private static final class Unanswered extends Streams {
        @Override
        public void start(ChannelSession channel, Environment env) {
            Thread.ofVirtual().start(() -> channel.close(false));
        }
    }

    /** The command run with {@code sh -c} as the test's user; its output and exit status go back. */
    private static final class Shell extends Streams {
        private final String command;

        Shell(String command) {
            this.command = command;
        }

        @Override
        public void start(ChannelSession channel, Environment env) {
            Thread.ofVirtual().start(() -> {
                try {
                    Process process = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
                    process.getOutputStream().close();
                    byte[] output = process.getInputStream().readAllBytes();
                    int status = process.waitFor();
                    out.write(output);
                    out.flush();
                    exit.onExit(status);
                } catch (IOException | InterruptedException e) {
                    exit.onExit(255, e.toString());
                }
            });
        }
    }

    private abstract static class Streams implements Command {
        OutputStream out;
        ExitCallback exit;

        @Override
        public void setInputStream(InputStream in) {}

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {}

        @Override
        public void setExitCallback(ExitCallback callback) {
            this.exit = callback;
        }

        @Override
        public void destroy(ChannelSession channel) {}
    }
}
