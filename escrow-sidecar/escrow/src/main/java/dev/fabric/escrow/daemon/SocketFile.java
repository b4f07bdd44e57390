package dev.fabric.escrow.daemon;

import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A listening UNIX socket at a path, mode 0600, removed on close only while the path is still ours.
 * <p>
 * Why not bind under a temporary name and rename into place (which would never expose a wider
 * mode): junixsocket's {@code accept} checks that the bound path still has the socket's inode and
 * closes the server socket when it does not, so a renamed socket stops accepting. We chmod right
 * after bind instead; the peer-credential check covers the instant in between.
 */
final class SocketFile implements AutoCloseable {

    /** The C daemon's listen backlog: how many clients can wait for the one session. */
    static final int BACKLOG = 16;
    /** {@code sizeof(sun_path) - 1}: the C code's limit for a socket path. */
    static final int MAX_PATH_BYTES = 107;

    private final Path path;
    private final AFUNIXServerSocket server;
    /** Inode and change time: an inode number alone can be reused by a file that replaced ours. */
    private final List<Object> identity;

    private SocketFile(Path path, AFUNIXServerSocket server, List<Object> identity) {
        this.path = path;
        this.server = server;
        this.identity = identity;
    }

    private static List<Object> identity(Path path) throws IOException {
        return List.of(Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS),
                Files.getAttribute(path, "unix:ctime", LinkOption.NOFOLLOW_LINKS));
    }

    static void checkPathLength(Path path) throws IOException {
        int length = path.toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_PATH_BYTES) {
            throw new IOException("socket path is too long (" + length + " bytes, at most " + MAX_PATH_BYTES + "): " + path);
        }
    }

    static SocketFile bind(Path path) throws IOException {
        checkPathLength(path);
        AFUNIXServerSocket server = AFUNIXServerSocket.newInstance();
        server.setDeleteOnClose(false);
        try {
            server.bind(AFUNIXSocketAddress.of(path), BACKLOG);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            return new SocketFile(path, server, identity(path));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    AFUNIXServerSocket server() {
        return server;
    }

    Path path() {
        return path;
    }

    /**
     * Whether clients can reach this socket: it is bound and open, and the path still names it
     * (not removed, not replaced by someone else's file).
     */
    boolean isReachable() {
        if (!server.isBound() || server.isClosed()) {
            return false;
        }
        try {
            return identity.equals(identity(path));
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops listening and removes the socket file unless someone else's socket has replaced it. */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // Closing a listening socket has nothing to flush; the descriptor is gone either way.
        }
        try {
            if (identity.equals(identity(path))) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // Already removed (or replaced and then removed): nothing of ours is left at the path.
        }
    }
}
