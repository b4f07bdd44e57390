package dev.fabric.escrow.descriptor;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Constructor;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;

/**
 * The bridge between JDK socket channels and raw descriptors, through {@code sun.nio.ch}: the JDK
 * has no public way to get a channel's descriptor or to make a channel of a descriptor received
 * from another process, so the JVM must run with {@value #ADD_OPENS}.
 * <p>
 * Why JDK channels and not junixsocket's {@code FileDescriptorCast} channels for revived TCP
 * sockets: closing a junixsocket socket always calls {@code shutdown(SHUT_RDWR)}, ending the
 * connection for every copy of the descriptor (the escrow's included, and a listening socket
 * stops listening); and junixsocket 2.11 serves waiting virtual threads from one pool thread per
 * core, which starves a service with more idle connections than cores. JDK channels do neither.
 */
final class JdkChannels {

    static final String ADD_OPENS = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";

    private static volatile Reflection reflection;

    private JdkChannels() {
    }

    private record Reflection(Method getFd, Constructor<?> socketChannel, Constructor<?> serverSocketChannel, Method remoteAddress,
            Method newFd, Method fdVal) {
    }

    private static Reflection reflection() {
        Reflection r = reflection;
        if (r != null) {
            return r;
        }
        try {
            Method getFd = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFD");
            Constructor<?> socket = Class.forName("sun.nio.ch.SocketChannelImpl").getDeclaredConstructor(
                    SelectorProvider.class, ProtocolFamily.class, FileDescriptor.class, SocketAddress.class);
            Constructor<?> server = Class.forName("sun.nio.ch.ServerSocketChannelImpl").getDeclaredConstructor(
                    SelectorProvider.class, ProtocolFamily.class, FileDescriptor.class, boolean.class);
            Method remote = Class.forName("sun.nio.ch.Net").getDeclaredMethod("remoteAddress", FileDescriptor.class);
            Method newFd = Class.forName("sun.nio.ch.IOUtil").getDeclaredMethod("newFD", int.class);
            Method fdVal = Class.forName("sun.nio.ch.IOUtil").getDeclaredMethod("fdVal", FileDescriptor.class);
            newFd.setAccessible(true);
            fdVal.setAccessible(true);
            socket.setAccessible(true);
            server.setAccessible(true);
            remote.setAccessible(true);
            r = new Reflection(getFd, socket, server, remote, newFd, fdVal);
            reflection = r;
            return r;
        } catch (InaccessibleObjectException e) {
            throw new IllegalStateException("the JDK's socket channels are closed to us: run the JVM with " + ADD_OPENS, e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this JDK's sun.nio.ch does not look like JDK 25's: " + e, e);
        }
    }

    static boolean isJdkChannel(Channel channel) {
        return channel.getClass().getName().startsWith("sun.nio.ch.");
    }

    static FileDescriptor descriptorOf(Channel channel) {
        Method getFd = reflection().getFd();
        if (!getFd.getDeclaringClass().isInstance(channel)) {
            throw new IllegalArgumentException("a " + channel.getClass().getName()
                    + " has no descriptor to hand over: pass a socket or pipe channel, or a FileDescriptor");
        }
        try {
            return (FileDescriptor) getFd.invoke(channel);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot reach the descriptor of a " + channel.getClass().getName() + ": run the JVM with " + ADD_OPENS, e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("cannot get the descriptor of " + channel + ": " + e.getCause(), e.getCause());
        }
    }

    /** The number of a descriptor (no system call, unlike junixsocket's cast, which asks the kernel what it is). */
    static int numberOf(FileDescriptor fd) {
        reflection(); // the clear error when sun.nio.ch is closed to us; Handles can then be made
        try {
            return (int) Handles.FD_VAL.invokeExact(fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read a FileDescriptor's number: " + t, t);
        }
    }

    /** A {@link FileDescriptor} for a descriptor number this process owns (no system call). */
    static FileDescriptor descriptorOf(int number) {
        reflection();
        try {
            return (FileDescriptor) Handles.NEW_FD.invokeExact(number);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot make a FileDescriptor for " + number + ": " + t, t);
        }
    }

    /**
     * {@code IOUtil.fdVal} and {@code IOUtil.newFD} as constant method handles: the daemon calls them for every
     * descriptor it sends or receives, and a constant handle is a plain call for C1 and C2 and far cheaper than
     * {@link Method#invoke} in the interpreter (a bulk recovery's first batches run there). Made after
     * {@link #reflection()} succeeded.
     */
    private static final class Handles {
        static final MethodHandle FD_VAL;
        static final MethodHandle NEW_FD;

        static {
            Reflection r = reflection();
            try {
                FD_VAL = MethodHandles.lookup().unreflect(r.fdVal());
                NEW_FD = MethodHandles.lookup().unreflect(r.newFd());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot reach sun.nio.ch.IOUtil: run the JVM with " + ADD_OPENS, e);
            }
        }
    }

    /** A connected JDK {@link SocketChannel} owning {@code fd}, a stream socket of the given family. */
    static SocketChannel socketChannel(FileDescriptor fd, StandardProtocolFamily family) throws IOException {
        Reflection r = reflection();
        try {
            SocketAddress remote = family == StandardProtocolFamily.UNIX ? UnixDomainSocketAddress.of("") : (SocketAddress) r.remoteAddress().invoke(null, fd);
            return (SocketChannel) r.socketChannel().newInstance(SelectorProvider.provider(), family, fd, remote);
        } catch (InvocationTargetException e) {
            throw asIo(e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A bound JDK {@link ServerSocketChannel} owning {@code fd}, a listening socket of the given family. */
    static ServerSocketChannel serverSocketChannel(FileDescriptor fd, StandardProtocolFamily family) throws IOException {
        try {
            return (ServerSocketChannel) reflection().serverSocketChannel().newInstance(SelectorProvider.provider(), family, fd, true);
        } catch (InvocationTargetException e) {
            throw asIo(e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static IOException asIo(InvocationTargetException e) {
        return e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
}
