package dev.fabric.escrow.descriptor;

import dev.fabric.posix.PosixException;
import org.newsclub.net.unix.FileDescriptorAccess;
import org.newsclub.net.unix.FileDescriptorCast;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.lang.reflect.InaccessibleObjectException;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Optional;

/**
 * Descriptor plumbing between Java objects and the numbers the kernel passes with SCM_RIGHTS.
 * <p>
 * junixsocket closes every descriptor it received on a socket when that socket closes; whoever
 * must keep a received descriptor beyond its session (the daemon, a client after {@code close()})
 * keeps a {@link #duplicate(FileDescriptor) duplicate} and {@link #close(FileDescriptor) closes}
 * the received one.
 * <p>
 * Channels of JDK sockets are reached through {@code sun.nio.ch} ({@link JdkChannels}): the JVM
 * runs with {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}.
 */
public final class Descriptors {

    private static final int SO_DOMAIN = 39;
    private static final int AF_UNIX = 1;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    private Descriptors() {
    }

    /**
     * The descriptor behind a channel: junixsocket channels expose it; JDK channels keep it in
     * {@code sun.nio.ch}. The channel keeps owning it.
     */
    public static FileDescriptor of(Channel channel) {
        if (channel instanceof FileDescriptorAccess access) {
            try {
                return access.getFileDescriptor();
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot get the descriptor of " + channel + ": " + e.getMessage(), e);
            }
        }
        if (JdkChannels.isJdkChannel(channel)) {
            return JdkChannels.descriptorOf(channel);
        }
        throw new IllegalArgumentException("cannot get the descriptor of a " + channel.getClass().getName()
                + ": pass a JDK or junixsocket channel, or a FileDescriptor");
    }

    /** The descriptor's number in this process. */
    public static int number(FileDescriptor fd) throws IOException {
        if (!fd.valid()) {
            throw new IOException("the descriptor is closed");
        }
        try {
            return JdkChannels.numberOf(fd);
        } catch (IllegalStateException | InaccessibleObjectException noJdkInternals) {
            return FileDescriptorCast.using(fd).as(Integer.class); // asks the kernel what the descriptor is: slower
        }
    }

    /** The descriptor's number, or -1 when it has none (null or closed). */
    public static int numberOrMinusOne(FileDescriptor fd) {
        if (fd == null || !fd.valid()) {
            return -1;
        }
        try {
            return number(fd);
        } catch (IOException e) {
            return -1;
        }
    }

    /** A new descriptor for the same open file ({@code dup(2)}), owned by the caller. */
    public static FileDescriptor duplicate(FileDescriptor fd) throws IOException {
        return FileDescriptorCast.duplicating(fd).getFileDescriptor();
    }

    /** Closes the descriptor with a plain {@code close(2)} (once; later calls do nothing). */
    public static void close(FileDescriptor fd) {
        if (fd == null || !fd.valid()) {
            return;
        }
        try {
            new FileInputStream(fd).close();
        } catch (IOException e) {
            // Closing can only fail for an already closed descriptor here: nothing is left to release.
        }
    }

    /**
     * Closes this process's copy of a socket that lives on elsewhere (in the escrow). JDK channels
     * just close; a junixsocket channel would {@code shutdown(SHUT_RDWR)} the socket on close,
     * ending the connection for every copy, so its descriptor is closed plainly first.
     */
    public static void closeKeepingConnection(Channel channel) throws IOException {
        if (channel instanceof FileDescriptorAccess access) {
            close(access.getFileDescriptor());
        }
        channel.close();
    }

    /** What kind of descriptor this is, asked of the kernel ({@code SO_ACCEPTCONN}, {@code SO_TYPE}). */
    public static DescriptorKind kind(FileDescriptor fd) throws IOException {
        if (fd == null) {
            return DescriptorKind.NONE;
        }
        int n = number(fd);
        try {
            if (Posix.getsockoptInt(n, Posix.SOL_SOCKET, Posix.SO_ACCEPTCONN) != 0) {
                return DescriptorKind.SERVER_SOCKET;
            }
            return Posix.getsockoptInt(n, Posix.SOL_SOCKET, Posix.SO_TYPE) == Posix.SOCK_STREAM
                    ? DescriptorKind.SOCKET : DescriptorKind.OTHER_SOCKET;
        } catch (PosixException e) {
            if (e.errno() == Posix.ENOTSOCK) {
                return DescriptorKind.FILE;
            }
            throw e;
        }
    }

    /** A descriptor's kind and, for a socket, its address family when the JDK has channels for it. */
    public record Facts(DescriptorKind kind, Optional<StandardProtocolFamily> family) {
    }

    private static final int[] FACT_OPTIONS = {Posix.SO_ACCEPTCONN, Posix.SO_TYPE, SO_DOMAIN};

    /**
     * {@link #kind} and {@link #family} together, asked with one native allocation ({@link Posix#socketOptions}):
     * what a bulk recovery tells the client of each descriptor.
     */
    public static Facts facts(FileDescriptor fd) throws IOException {
        if (fd == null) {
            return new Facts(DescriptorKind.NONE, Optional.empty());
        }
        int[] values = new int[FACT_OPTIONS.length];
        Posix.socketOptions(number(fd), FACT_OPTIONS, values);
        if (values[0] == -Posix.ENOTSOCK) {
            return new Facts(DescriptorKind.FILE, Optional.empty());
        }
        for (int value : values) {
            if (value < 0) {
                throw new PosixException("getsockopt", -value);
            }
        }
        DescriptorKind kind = values[0] != 0 ? DescriptorKind.SERVER_SOCKET
                : values[1] == Posix.SOCK_STREAM ? DescriptorKind.SOCKET : DescriptorKind.OTHER_SOCKET;
        Optional<StandardProtocolFamily> family = switch (values[2]) {
            case AF_INET -> Optional.of(StandardProtocolFamily.INET);
            case AF_INET6 -> Optional.of(StandardProtocolFamily.INET6);
            case AF_UNIX -> Optional.of(StandardProtocolFamily.UNIX);
            default -> Optional.empty();
        };
        return new Facts(kind, family);
    }

    /** The socket's address family when the JDK has channels for it (IPv4, IPv6, UNIX). */
    public static Optional<StandardProtocolFamily> family(FileDescriptor fd) throws IOException {
        return switch (Posix.getsockoptInt(number(fd), Posix.SOL_SOCKET, SO_DOMAIN)) {
            case AF_INET -> Optional.of(StandardProtocolFamily.INET);
            case AF_INET6 -> Optional.of(StandardProtocolFamily.INET6);
            case AF_UNIX -> Optional.of(StandardProtocolFamily.UNIX);
            default -> Optional.empty();
        };
    }

    /**
     * A JDK {@link SocketChannel} for a connected stream socket this process owns; the channel
     * owns the descriptor from then on. Closing it closes this copy only.
     */
    public static SocketChannel asSocketChannel(FileDescriptor fd, StandardProtocolFamily family) throws IOException {
        return JdkChannels.socketChannel(fd, family);
    }

    /** As {@link #asSocketChannel}, for a listening socket. */
    public static ServerSocketChannel asServerSocketChannel(FileDescriptor fd, StandardProtocolFamily family) throws IOException {
        return JdkChannels.serverSocketChannel(fd, family);
    }
}
