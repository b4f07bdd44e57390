package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.descriptor.Descriptors;

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
