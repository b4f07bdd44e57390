package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.wire.Extension;

import java.io.FileDescriptor;
import java.io.IOException;

/**
 * What the daemon holds at one (tag, idx): the descriptor it received (null for a payload-only
 * slot), the sender's descriptor number and the payload. What kind of descriptor it is matters only
 * to the stats and the metrics, so it is asked of the kernel when they first want it, not on the
 * ADD's path (two {@code getsockopt} calls per ADD).
 */
final class Slot {

    private final FileDescriptor descriptor;
    private final int ufd;
    private final byte[] payload;
    private volatile DescriptorKind kind;
    /** {@link Extension#describe} of the descriptor, -1 until asked. */
    private volatile int description = -1;

    Slot(FileDescriptor descriptor, int ufd, byte[] payload) {
        this.descriptor = descriptor;
        this.ufd = ufd;
        this.payload = payload;
        this.kind = descriptor == null ? DescriptorKind.NONE : null;
    }

    FileDescriptor descriptor() {
        return descriptor;
    }

    int ufd() {
        return ufd;
    }

    byte[] payload() {
        return payload;
    }

    /**
     * What a batch entry tells the client of this descriptor ({@link Extension#describe}): asked of
     * the kernel once here, in the long-lived daemon, so that a service that just started makes its
     * channels without asking. 0 for what the client revives as a plain descriptor.
     */
    int description() {
        int d = description;
        if (d < 0) {
            d = 0;
            try {
                // Kind and family in one go (a bulk recovery asks this of every slot it has not described yet).
                Descriptors.Facts facts = Descriptors.facts(descriptor);
                DescriptorKind k = facts.kind();
                kind = k;
                if (k == DescriptorKind.SOCKET || k == DescriptorKind.SERVER_SOCKET) {
                    d = Extension.describe(k == DescriptorKind.SOCKET ? Extension.SocketKind.STREAM : Extension.SocketKind.LISTENING,
                            facts.family().orElse(null));
                }
            } catch (IOException | RuntimeException e) {
                d = 0; // revived as a plain descriptor; kind() asks again, and says FILE if it cannot
            }
            description = d;
        }
        return d;
    }

    /** The descriptor's kind, asked once ({@code SO_ACCEPTCONN}, {@code SO_TYPE}); {@code FILE} if it cannot be asked. */
    DescriptorKind kind() {
        DescriptorKind k = kind;
        if (k == null) {
            try {
                k = Descriptors.kind(descriptor);
            } catch (IOException | RuntimeException e) {
                k = DescriptorKind.FILE;
            }
            kind = k;
        }
        return k;
    }
}
