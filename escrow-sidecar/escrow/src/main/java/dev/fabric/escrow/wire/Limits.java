package dev.fabric.escrow.wire;

/**
 * The limits of the C escrow, which our daemon enforces with the same error replies.
 *
 * @param nrTags the number of tags, fixed when the daemon starts: {@code 0 <= tag < nrTags}
 */
public record Limits(int nrTags) {

    /** Tags when none are given, as in the C daemon. */
    public static final int DEFAULT_NR_TAGS = 32;
    /** Tags travel as {@code int16}, so no more than this many can be addressed. */
    public static final int MAX_NR_TAGS = Short.MAX_VALUE + 1;
    /** {@code 0 <= idx < MAX_IDX} (2^20). */
    public static final int MAX_IDX = 1 << 20;
    /** Largest payload of an ADD, in bytes (32 KiB). */
    public static final int MAX_PAYLOAD = 1 << 15;
    /** Largest REP text in bytes, counting its NUL. */
    public static final int MAX_REPLY = 1 << 10;
    /** Largest message on the wire: an ADD header and a full payload. */
    public static final int MAX_MESSAGE = 16 + MAX_PAYLOAD;

    public Limits {
        if (nrTags < 1 || nrTags > MAX_NR_TAGS) {
            throw new IllegalArgumentException("nr_tags must be between 1 and " + MAX_NR_TAGS + ", not " + nrTags);
        }
    }

    public static Limits defaults() {
        return new Limits(DEFAULT_NR_TAGS);
    }

    public boolean validTag(int tag) {
        return 0 <= tag && tag < nrTags;
    }

    public static boolean validIdx(int idx) {
        return 0 <= idx && idx < MAX_IDX;
    }
}
