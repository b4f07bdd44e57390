package dev.fabric.escrow.client;

import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.io.FileDescriptor;

/**
 * What {@link Escrow#get} and {@link Escrow#getAll} return: the slot's revived descriptor and its
 * payload. The slot stays in the escrow; {@link Escrow#del} removes it.
 *
 * @param tag the slot's tag
 * @param idx the slot's index within the tag: with {@link Escrow#getAll}, how the caller finds the
 *        slot again for {@link Escrow#updatePayload} or {@link Escrow#del}
 * @param descriptor the revived descriptor, owned by the caller; {@link Descriptor.None} for a payload-only slot
 * @param payload the payload (copied in and out)
 * @param ufd the descriptor number the sender had when it added the slot (informational)
 */
public record Slot(int tag, int idx, Descriptor descriptor, byte[] payload, int ufd) {

    public Slot {
        payload = payload.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    public boolean hasDescriptor() {
        return !(descriptor instanceof Descriptor.None);
    }

    /** The revived connected socket; {@link IllegalStateException} when the slot holds something else. */
    public SocketChannel socketChannel() {
        if (descriptor instanceof Descriptor.Socket(SocketChannel channel)) {
            return channel;
        }
        throw new IllegalStateException("slot " + tag + "/" + idx + " holds " + descriptor.kind().label() + ", not a socket");
    }

    /** The revived listening socket; {@link IllegalStateException} when the slot holds something else. */
    public ServerSocketChannel serverSocketChannel() {
        if (descriptor instanceof Descriptor.ServerSocket(ServerSocketChannel channel)) {
            return channel;
        }
        throw new IllegalStateException("slot " + tag + "/" + idx + " holds " + descriptor.kind().label() + ", not a server socket");
    }

    /** The revived plain descriptor (file, pipe, other socket); {@link IllegalStateException} otherwise. */
    public FileDescriptor fileDescriptor() {
        if (descriptor instanceof Descriptor.File(FileDescriptor fd, var kind)) {
            return fd;
        }
        throw new IllegalStateException("slot " + tag + "/" + idx + " holds " + descriptor.kind().label() + ", not a plain descriptor");
    }
}
