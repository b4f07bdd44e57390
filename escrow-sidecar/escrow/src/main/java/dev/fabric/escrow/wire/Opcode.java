package dev.fabric.escrow.wire;

/**
 * The C escrow's opcodes and their fixed header sizes, and the two of our extension (bulk recovery,
 * {@code GTB} and {@code BLK}, sent only to a daemon that answered {@link Extension#PROBE}); private
 * to the codec.
 */
enum Opcode {
    HEL(0, 16),
    ADD(1, 16),
    DEL(2, 8),
    REP(3, 6),
    TAG(4, 4),
    INF(5, 12),
    GET(6, 8),
    GTB(16, 12),
    BLK(17, 16);

    final short code;
    final int headerSize;

    Opcode(int code, int headerSize) {
        this.code = (short) code;
        this.headerSize = headerSize;
    }

    static Opcode of(int code) {
        for (Opcode opcode : values()) {
            if (opcode.code == code) {
                return opcode;
            }
        }
        return null;
    }

    static Opcode of(Message message) {
        return switch (message) {
            case Message.Hel h -> HEL;
            case Message.Add a -> ADD;
            case Message.Del d -> DEL;
            case Message.Rep r -> REP;
            case Message.Tag t -> TAG;
            case Message.Inf i -> INF;
            case Message.Get g -> GET;
            case Message.GetBatch g -> GTB;
            case Message.Batch b -> BLK;
        };
    }
}
