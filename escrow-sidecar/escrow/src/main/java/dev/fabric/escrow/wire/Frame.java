package dev.fabric.escrow.wire;

import java.io.FileDescriptor;
import java.util.List;
import java.util.Optional;

/**
 * One decoded message and the descriptors (SCM_RIGHTS) that travelled with its bytes: at most one
 * for a message of the C protocol, one per entry that has one for a {@link Message.Batch}, in entry
 * order. Whoever receives a frame owns its descriptors and must keep or close them.
 */
public record Frame(Message message, List<FileDescriptor> descriptors) {

    public Frame {
        descriptors = List.copyOf(descriptors);
    }

    public Frame(Message message, FileDescriptor descriptor) {
        this(message, descriptor == null ? List.of() : List.of(descriptor));
    }

    public static Frame of(Message message) {
        return new Frame(message, List.of());
    }

    /** The descriptor of a message of the C protocol (the first one), or null. */
    public FileDescriptor descriptor() {
        return descriptors.isEmpty() ? null : descriptors.getFirst();
    }

    public Optional<FileDescriptor> optionalDescriptor() {
        return Optional.ofNullable(descriptor());
    }

    public boolean hasDescriptor() {
        return !descriptors.isEmpty();
    }
}
