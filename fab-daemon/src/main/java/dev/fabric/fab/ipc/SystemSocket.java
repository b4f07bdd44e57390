package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The client's side of the system service ({@code fabw --system}, root, in the workspace container):
 * a UNIX socket {@code <fabipcdir>/system.sock}. Its presence means the credential model is in force:
 * only the service may start fabd as fabsys and faba as the developer. One request per connection,
 * a line {@code ENSURE <restart 0|1> <canonical fabfile>}; the answer is {@code OK} or
 * {@code ERR <status> <message>}. The service learns who asks from the socket (SO_PEERCRED), never
 * from the request.
 */
public final class SystemSocket {
    public static final String NAME = "system.sock";

    private SystemSocket() {
    }

    /**
     * Whether the credential model is in force: the socket is there. Only root's socket counts: one of
     * another owner (planted where the IPC root is writable) is BADIPC, never talked to, since fab would
     * take its answers and signal the pids its directories name.
     */
    public static boolean present(IpcRoots roots) {
        Path socket = roots.ipc().resolve(NAME);
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            int owner = (int) Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != 0) {
                throw new FabException(ExitStatus.BADIPC, socket + " belongs to uid " + owner + ", not to root: it is not the fab system "
                        + "service's; remove it, or set FAB_IPC_DIR (or --ipc-dir) to a directory of yours");
            }
        } catch (IOException e) {
            throw new FabException(ExitStatus.BADIPC, "cannot read the owner of " + socket + ": " + e.getMessage());
        }
        return true;
    }

    /** Asks the service to make the project's pairs run for this user; FABPERMS when it does not answer. */
    public static void ensure(IpcRoots roots, Path canonicalFabfile, boolean restart, Consumer<String> log) {
        Path socket = roots.ipc().resolve(NAME);
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            String request = "ENSURE " + (restart ? 1 : 0) + " " + canonicalFabfile + "\n";
            ch.write(java.nio.ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            log.accept("asked the system service: " + request.strip());
            String answer = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8)).readLine();
            log.accept("system service answered: " + answer);
            if (answer == null) {
                throw new FabException(ExitStatus.FABPERMS, "the fab system service closed " + socket + " without an answer; see its output");
            }
            if (!answer.equals("OK")) {
                String[] f = answer.split(" ", 3);
                int code = f.length > 1 ? Integer.parseInt(f[1]) : ExitStatus.FABPERMS.code();
                ExitStatus status = ExitStatus.values()[code >= 0 && code < ExitStatus.values().length ? code : ExitStatus.FABPERMS.code()];
                throw new FabException(status, f.length > 2 ? f[2] : answer);
            }
        } catch (IOException e) {
            throw new FabException(ExitStatus.FABPERMS, "the fab system service does not answer on " + socket + " (" + e.getMessage()
                    + "): start it as root with /opt/fab/bin/fabw --system (the workspace container's entrypoint does), "
                    + "or remove the stale socket to run fab as one user");
        }
    }

    /** Encodes a service answer. */
    public static String answer(FabException e) {
        return e == null ? "OK" : "ERR " + e.status().code() + " " + e.getMessage().replace('\n', ' ');
    }
}
