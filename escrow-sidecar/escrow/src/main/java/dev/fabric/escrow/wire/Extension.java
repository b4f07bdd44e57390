package dev.fabric.escrow.wire;

import java.net.StandardProtocolFamily;

/**
 * Our extension of the C escrow protocol: bulk recovery ({@link Message.GetBatch} answered by
 * {@link Message.Batch}s), and the probe that tells a client whether the daemon has it.
 * <p>
 * The seed's C daemon must never see an extension message: it takes one {@code recvmsg} to be one
 * message, so a message it does not know the size of desynchronises the stream, and an ADD without a
 * descriptor (which the rest of such a stream can look like) trips its assertion and aborts it,
 * closing every descriptor it holds. The probe is therefore a request of the C protocol that the C
 * daemon answers with an error and changes nothing for: {@code TAG -32768}. The C daemon (any tag
 * outside {@code 0..nr_tags-1}) answers {@code REP -22 "Wrong TAG request."}; our escrowd answers
 * {@code REP 0} with {@link #PROBE_REPLY}, which the C daemon never sends to a TAG. A client uses the
 * extension only after that answer, in the same session (the daemon cannot change under a session).
 */
public final class Extension {

    /** The probe: a TAG of the lowest int16, never a valid tag. */
    public static final Message.Tag PROBE = new Message.Tag(Short.MIN_VALUE);
    /** Our escrowd's answer to {@link #PROBE}: {@code REP 0} with this text. */
    public static final String PROBE_REPLY = "fabric escrowd: GTB BLK 253";
    /** Most slots (and so descriptors) in one {@link Message.Batch}: 253, the kernel's SCM_MAX_FD per message. */
    public static final int MAX_BATCH = 253;
    /** Most entry bytes in one {@link Message.Batch} (the daemon stops a batch before it would exceed this). */
    public static final int MAX_BATCH_BYTES = 1 << 18;
    /** Bytes of one batch entry's header: {@code int32 idx, int32 ufd, int32 nob, int32 flags}. */
    public static final int ENTRY_HEADER = 16;
    /** The {@code flags} bit of an entry whose descriptor travels with the batch. */
    public static final int ENTRY_HAS_DESCRIPTOR = 1;
    /**
     * The {@code flags} bits (8..15) that describe an entry's descriptor, so that the client makes its
     * channel without asking the kernel: 0 undescribed (the client asks), else a {@link SocketKind}
     * code in bits 8..11 and a family code in bits 12..15 (1 UNIX, 2 IPv4, 3 IPv6).
     */
    public static final int ENTRY_DESCRIPTION = 0xff00;

    /** What the daemon can tell of a held socket, for a batch entry's {@link #ENTRY_DESCRIPTION}. */
    public enum SocketKind {
        /** A connected stream socket. */
        STREAM,
        /** A listening stream socket. */
        LISTENING
    }

    /** The description bits of a stream socket of this kind and family ({@code null} family: undescribed, 0). */
    public static int describe(SocketKind kind, StandardProtocolFamily family) {
        if (kind == null || family == null) {
            return 0;
        }
        int familyCode = switch (family) {
            case UNIX -> 1;
            case INET -> 2;
            case INET6 -> 3;
        };
        return (kind.ordinal() + 1) << 8 | familyCode << 12;
    }

    /** The kind that {@code description} names, or null when undescribed. */
    public static SocketKind kindOf(int description) {
        int code = (description >> 8) & 0xf;
        return code >= 1 && code <= SocketKind.values().length ? SocketKind.values()[code - 1] : null;
    }

    /** The family that {@code description} names, or null when undescribed. */
    public static StandardProtocolFamily familyOf(int description) {
        return switch ((description >> 12) & 0xf) {
            case 1 -> StandardProtocolFamily.UNIX;
            case 2 -> StandardProtocolFamily.INET;
            case 3 -> StandardProtocolFamily.INET6;
            default -> null;
        };
    }

    private Extension() {
    }

    /** Whether {@code reply} to {@link #PROBE} says the daemon is ours, with the extension. */
    public static boolean isOurProbeReply(Message reply) {
        // Later versions may name more operations after these.
        return reply instanceof Message.Rep(int rc, String text) && rc == 0 && text.startsWith(PROBE_REPLY);
    }

    /** Bytes an entry with this payload takes in a batch. */
    public static int entrySize(int payloadLength) {
        return ENTRY_HEADER + payloadLength;
    }
}
