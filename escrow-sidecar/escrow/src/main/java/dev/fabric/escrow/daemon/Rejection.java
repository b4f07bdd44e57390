package dev.fabric.escrow.daemon;

import java.util.Locale;

/** Why a request got an error reply or a session was cut short; the keys of the error counters. */
public enum Rejection {
    /** Tag or index out of range (the C daemon's "Wrong ... request."). */
    WRONG_REQUEST,
    /** A descriptor came with a DEL, GET or TAG. */
    DESCRIPTOR_PRESENT,
    /** GET or DEL of an empty slot. */
    NO_SUCH_INDEX,
    /** A REP, INF or HEL from a client. */
    UNEXPECTED_MESSAGE,
    /** An opcode the protocol does not have; the session ends. */
    UNKNOWN_OPCODE,
    /** An ADD or REP announcing an impossible size; the session ends. */
    BAD_LENGTH,
    /** More than one descriptor with one message; the session ends. */
    TOO_MANY_DESCRIPTORS,
    /** A batch whose descriptors or entries do not match its header; the session ends. */
    BAD_BATCH,
    /** The client disconnected in the middle of a message; the session ends. */
    TRUNCATED,
    /** A received descriptor could not be kept (for example, no descriptors left). */
    DESCRIPTOR_UNUSABLE,
    /** The peer's uid and gid are not on the allowed list; closed before reading. */
    PEER_REFUSED,
    /** An ADD refused because the escrow holds its maximum of slots or payload bytes ({@code -28 "Escrow full: ..."}). */
    ESCROW_FULL,
    /** A session cut because its client stayed silent for the idle timeout while another client waited. */
    IDLE_TIMEOUT,
    /** A session ended by an unexpected failure in the daemon (an OutOfMemoryError, a bug); the daemon goes on serving. */
    INTERNAL_ERROR,
    /** Reading or writing the session failed. */
    IO_ERROR;

    /** The name in the stats text and in metrics: {@code wrong_request}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
