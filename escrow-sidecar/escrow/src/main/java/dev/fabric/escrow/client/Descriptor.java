package dev.fabric.escrow.client;

import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.descriptor.Descriptors;

import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A descriptor revived from the escrow, as the kind of object it is: a connected stream socket
 * as a {@link SocketChannel}, a listening one as a {@link ServerSocketChannel}, anything else as a
 * plain {@link FileDescriptor}; {@link None} for a payload-only slot. The caller owns it (it is a
 * duplicate of the daemon's, independent of the escrow session) and closes it.
 * <p>
 * Socket channels are ordinary JDK channels (TCP over IPv4/IPv6, or UNIX), in blocking mode;
 * closing one closes this process's copy only. Stream sockets of other families come back as
 * {@link File}.
 */
public sealed interface Descriptor extends AutoCloseable {

    DescriptorKind kind();

    @Override
    void close() throws IOException;

    /** A stream socket (TCP, UNIX, ...), connected. */
    record Socket(SocketChannel channel) implements Descriptor {
        @Override
        public DescriptorKind kind() {
            return DescriptorKind.SOCKET;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** A listening stream socket. */
    record ServerSocket(ServerSocketChannel channel) implements Descriptor {
        @Override
        public DescriptorKind kind() {
            return DescriptorKind.SERVER_SOCKET;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** A file, pipe, device, or a socket the JDK has no channel for (datagram, other families). */
    record File(FileDescriptor fd, DescriptorKind kind) implements Descriptor {
        @Override
        public void close() {
            Descriptors.close(fd);
        }
    }

    /** No descriptor: the slot holds a payload only. */
    record None() implements Descriptor {
        @Override
        public DescriptorKind kind() {
            return DescriptorKind.NONE;
        }

        @Override
        public void close() {
        }
    }
}
