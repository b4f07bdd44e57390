package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.DescriptorKind;

import java.io.FileDescriptor;

/**
 * What the daemon holds at one (tag, idx): its own duplicate of the sent descriptor (null for a
 * payload-only slot), what kind it is, the sender's descriptor number and the payload.
 */
record Slot(FileDescriptor descriptor, DescriptorKind kind, int ufd, byte[] payload) {
}
