package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.launch.LaunchException;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.auth.password.PasswordIdentityProvider;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One configured host: an SSH client that authenticates with the host's key file alone and checks
 * the host's key against its known-hosts file. Every failure is a {@link LaunchException} that names
 * the host and says what to check.
 */
final class RemoteHost implements AutoCloseable {

    /** What a command printed and how it ended. */
    record Result(Integer exitStatus, String exitSignal, String output, String errors) {
        boolean succeeded() {
            return exitStatus != null && exitStatus == 0;
        }
    }

    final String name;
    final SshLauncherProperties.Host settings;
    private final Duration connectTimeout;
    private final Duration commandTimeout;
    private final SshClient client;
    private final KnownHosts knownHosts;

    RemoteHost(String name, SshLauncherProperties.Host settings, Duration connectTimeout, Duration commandTimeout) {
        this.name = name;
        this.settings = settings;
        this.connectTimeout = connectTimeout;
        this.commandTimeout = commandTimeout;
        settings.portRange();
        client = SshClient.setUpDefaultClient();
        knownHosts = new KnownHosts(name, settings.knownHosts(), settings.hostKeyPolicy());
        client.setServerKeyVerifier(knownHosts);
        // Only what is configured here: no ~/.ssh/config, no default keys, no agent, no password.
        client.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
        client.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
        client.setPasswordIdentityProvider(PasswordIdentityProvider.EMPTY_PASSWORDS_PROVIDER);
        client.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        client.start();
    }

    /** False once the launcher is closed (the spawner shuts down): its members are left running, unwatched. */
    boolean isOpen() {
        return client.isOpen();
    }

    /** {@code user@address:port}, for messages. */
    String target() {
        return settings.user() + "@" + settings.address() + ":" + settings.port();
    }

    /** An authenticated session; the caller closes it. */
    ClientSession connect() {
        List<KeyPair> keys = identity();
        ClientSession session;
        try {
            ConnectFuture connecting = client.connect(settings.user(), settings.address(), settings.port());
            if (!connecting.await(connectTimeout)) {
                connecting.cancel();
                throw LaunchException.unreachable("host " + name + " unreachable: no answer from " + settings.address() + ":"
                        + settings.port() + " within " + connectTimeout + " (is the address routable from this spawner, is sshd listening?)",
                        null);
            }
            session = connecting.verify().getSession();
        } catch (IOException e) {
            throw LaunchException.unreachable("host " + name + " unreachable: " + connectProblem(e) + " at " + settings.address() + ":"
                    + settings.port() + " (is sshd running there, is the port open to this spawner?)", e);
        }
        try {
            keys.forEach(session::addPublicKeyIdentity);
            session.auth().verify(connectTimeout);
            return session;
        } catch (IOException | RuntimeException e) {
            String refusal = knownHosts.refusalOf(session);
            closeQuietly(session);
            if (refusal != null) {
                throw new LaunchException(refusal, e);
            }
            if (String.valueOf(e.getMessage()).contains("No more authentication methods")) {
                throw new LaunchException("SSH authentication refused by host " + name + " for " + target() + " with the key "
                        + settings.identity() + ": is its public half in that user's ~/.ssh/authorized_keys?", e);
            }
            throw new LaunchException("host " + name + " (" + target() + "): the SSH session failed: " + e.getMessage(), e);
        }
    }

    /** Runs a command in a new session and waits for it to end. */
    Result run(String command) {
        try (ClientSession session = connect()) {
            return run(session, command);
        } catch (IOException e) {
            throw new LaunchException("host " + name + ": closing the session failed: " + e.getMessage(), e);
        }
    }

    /** Runs a command on an open session and waits for it to end ({@code command-timeout}). */
    Result run(ClientSession session, String command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (ChannelExec channel = session.createExecChannel(command)) {
            channel.setOut(out);
            channel.setErr(err);
            channel.open().verify(connectTimeout);
            Set<ClientChannelEvent> events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), commandTimeout);
            if (!events.contains(ClientChannelEvent.CLOSED)) {
                throw new LaunchException("host " + name + ": a command did not finish within " + commandTimeout);
            }
            return new Result(channel.getExitStatus(), channel.getExitSignal(), out.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new LaunchException("host " + name + ": running a command failed: " + e.getMessage(), e);
        }
    }

    /** An SFTP client over an open session. */
    SftpClient sftp(ClientSession session) throws IOException {
        return SftpClientFactory.instance().createSftpClient(session);
    }

    /**
     * The configured key, refused when others may read it (as OpenSSH refuses such a key) and when
     * it is missing or unreadable.
     */
    private List<KeyPair> identity() {
        Path key = settings.identity();
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(key);
            if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_"))) {
                throw new LaunchException("the SSH key " + key + " for host " + name + " is readable by others ("
                        + java.nio.file.attribute.PosixFilePermissions.toString(permissions) + "): chmod 600 it");
            }
            List<KeyPair> keys = new ArrayList<>();
            new FileKeyPairProvider(key).loadKeys(null).forEach(keys::add);
            if (keys.isEmpty()) {
                throw new LaunchException("the SSH key " + key + " for host " + name + " holds no key");
            }
            return keys;
        } catch (IOException e) {
            throw new LaunchException("cannot read the SSH key " + key + " for host " + name + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new LaunchException("the SSH key " + key + " for host " + name + " is not a usable private key "
                    + "(a passphrase-protected key cannot be used): " + e.getMessage(), e);
        }
    }

    private static String connectProblem(IOException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException) {
                return "connection refused";
            }
            if (cause instanceof NoRouteToHostException) {
                return "no route to host";
            }
            if (cause instanceof UnknownHostException) {
                return "unknown host name";
            }
        }
        return e.getMessage();
    }

    static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing what is already broken
        }
    }

    @Override
    public void close() {
        client.stop();
    }
}
