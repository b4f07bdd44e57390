package dev.fabric.escrow.wire;

import java.io.FileDescriptor;
import java.util.Optional;

/**
 * One decoded message and the descriptor (SCM_RIGHTS) that travelled with its bytes, if any.
 * Whoever receives a frame owns its descriptor and must keep or close it.
 */
public record Frame(Message message, FileDescriptor descriptor) {

    public static Frame of(Message message) {
        return new Frame(message, null);
    }

    public Optional<FileDescriptor> optionalDescriptor() {
        return Optional.ofNullable(descriptor);
    }

    public boolean hasDescriptor() {
        return descriptor != null;
    }
}
