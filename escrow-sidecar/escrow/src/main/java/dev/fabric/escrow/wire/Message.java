package dev.fabric.escrow.wire;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The messages of the escrow protocol, one record per opcode of the C escrow.
 * <p>
 * Field widths on the wire are those of the C structs ({@code int16} tag, {@code int32} idx, ...);
 * the records use {@code int} so that out-of-range values (a negative tag, an index beyond
 * {@link Limits#MAX_IDX}) can be represented, decoded and rejected by the daemon with the C
 * daemon's error texts. The opcode numbers stay inside {@link MessageEncoder} and
 * {@link MessageDecoder}.
 * <p>
 * {@link GetBatch} and {@link Batch} are our extension of the protocol (bulk recovery), not the C
 * escrow's: a client sends {@code GetBatch} only to a daemon that answered {@link Extension#PROBE}
 * as ours does ({@code docs/escrow.md}, "Bulk recovery").
 */
public sealed interface Message {

    /** {@code HEL}: defined by the C code, never sent by it. Our daemon answers it as an unexpected message. */
    record Hel(int nrTags, int flags, long key) implements Message {
    }

    /**
     * {@code ADD}: client to daemon, store a slot; daemon to client, the answer to a {@link Get}.
     *
     * @param ufd the sender's own descriptor number, informational (the C daemon insists it is {@code >= 0})
     * @param payload up to {@link Limits#MAX_PAYLOAD} bytes
     */
    record Add(int tag, int idx, int ufd, byte[] payload) implements Message {
        public Add {
            payload = payload == null ? new byte[0] : payload.clone();
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        /** Payload size in bytes ({@code nob} on the wire). */
        public int nob() {
            return payload.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Add(int t, int i, int u, byte[] p) && t == tag && i == idx && u == ufd
                    && Arrays.equals(p, payload);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * (31 * tag + idx) + ufd) + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            String shown = payload.length <= 32 ? HexFormat.of().formatHex(payload)
                    : HexFormat.of().formatHex(payload, 0, 32) + "...";
            return "Add[tag=" + tag + ", idx=" + idx + ", ufd=" + ufd + ", nob=" + payload.length + ", payload=" + shown + "]";
        }
    }

    /** {@code DEL}: remove and close the slot at (tag, idx). */
    record Del(int tag, int idx) implements Message {
    }

    /** {@code GET}: ask for the slot at (tag, idx); the slot stays in the escrow. */
    record Get(int tag, int idx) implements Message {
    }

    /** {@code TAG}: ask how many slots a tag holds and how many payload bytes. */
    record Tag(int tag) implements Message {
    }

    /** {@code INF}: the answer to {@link Tag}. */
    record Inf(int nr, int total) implements Message {
    }

    /**
     * {@code REP}: the daemon's status reply.
     *
     * @param rc 0 or a negated errno, as the C daemon sends it
     * @param text a short description, at most {@link Limits#MAX_REPLY} - 1 bytes in UTF-8
     */
    record Rep(int rc, String text) implements Message {
        public Rep {
            text = text == null ? "" : text;
        }

        public static Rep ok() {
            return new Rep(0, "");
        }
    }

    /**
     * {@code GTB} (extension): ask for every slot of {@code tag} at an index {@code >= from}, in index
     * order, answered by a stream of {@link Batch} messages of at most {@code max} slots each
     * ({@code 1 <= max <=} {@link Extension#MAX_BATCH}), the last with {@code next == -1}.
     */
    record GetBatch(int tag, int from, int max) implements Message {
    }

    /**
     * {@code BLK} (extension): up to {@link Extension#MAX_BATCH} slots of one tag, their descriptors
     * travelling as one {@code SCM_RIGHTS} with the message, in entry order (one per entry whose
     * {@link Entry#hasDescriptor()} is true).
     *
     * @param next the index to go on from, or -1 when this is the last batch of the answer
     */
    record Batch(int tag, int next, List<Entry> entries) implements Message {
        public Batch {
            entries = List.copyOf(entries);
        }

        /** How many descriptors travel with this message. */
        public int descriptors() {
            int n = 0;
            for (Entry entry : entries) {
                n += entry.hasDescriptor() ? 1 : 0;
            }
            return n;
        }

        /**
         * One slot of a batch; its descriptor, if any, is the batch's next one in order.
         *
         * @param description what the daemon knows of the descriptor ({@link Extension#describe}), 0 if nothing
         */
        public record Entry(int idx, int ufd, boolean hasDescriptor, byte[] payload, int description) {
            public Entry {
                payload = payload == null ? new byte[0] : payload;
                description &= Extension.ENTRY_DESCRIPTION;
            }

            public Entry(int idx, int ufd, boolean hasDescriptor, byte[] payload) {
                this(idx, ufd, hasDescriptor, payload, 0);
            }

            /** The payload, not copied (a batch of 253 slots would otherwise copy each twice). */
            @Override
            public byte[] payload() {
                return payload;
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Entry(int i, int u, boolean d, byte[] p, int k) && i == idx && u == ufd && d == hasDescriptor
                        && Arrays.equals(p, payload) && k == description;
            }

            @Override
            public int hashCode() {
                return 31 * (31 * (31 * (31 * idx + ufd) + Boolean.hashCode(hasDescriptor)) + Arrays.hashCode(payload)) + description;
            }

            @Override
            public String toString() {
                return "Entry[idx=" + idx + ", ufd=" + ufd + ", descriptor=" + hasDescriptor + ", nob=" + payload.length
                        + ", description=" + Integer.toHexString(description) + "]";
            }
        }
    }
}
