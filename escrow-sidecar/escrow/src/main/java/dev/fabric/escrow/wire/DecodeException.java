package dev.fabric.escrow.wire;

import java.io.IOException;

/**
 * The bytes on the stream cannot be a message: the stream cannot be resynchronised and the
 * session must end. {@link #reason()} says why, for the error reply and the metrics.
 */
public final class DecodeException extends IOException {

    /** Why a stream could not be decoded. */
    public enum Reason {
        /** An opcode the protocol does not have: the message's size is unknown. */
        UNKNOWN_OPCODE,
        /** An ADD {@code nob} outside 0..32768, a REP {@code nob} outside 0..1024, a BLK count over 253 or size over its limit. */
        BAD_LENGTH,
        /** More than one descriptor arrived with one message (more than a batch announces, for {@code BLK}). */
        TOO_MANY_DESCRIPTORS,
        /** A batch ({@code BLK}) whose descriptors are fewer than it announces, or whose entries do not add up to its size. */
        BAD_BATCH
    }

    private final Reason reason;
    private final int opcode;

    public DecodeException(Reason reason, int opcode, String message) {
        super(message);
        this.reason = reason;
        this.opcode = opcode;
    }

    public Reason reason() {
        return reason;
    }

    /** The opcode of the offending message as it arrived. */
    public int opcode() {
        return opcode;
    }
}
