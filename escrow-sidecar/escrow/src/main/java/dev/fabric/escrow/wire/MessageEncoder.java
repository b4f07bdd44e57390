package dev.fabric.escrow.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Encodes a {@link Message} into the bytes of one C struct, in the host's native byte order.
 * The result is exactly the message's size ({@code 16 + nob} for ADD, {@code 6 + nob} for REP, ...),
 * to be written with one {@code sendmsg} together with the descriptor, if any.
 */
public final class MessageEncoder {

    /** Encodes one message; throws {@link IllegalArgumentException} for values the wire cannot carry. */
    public byte[] encode(Message message) {
        Opcode opcode = Opcode.of(message);
        return switch (message) {
            case Message.Hel(int nrTags, int flags, long key) -> header(opcode, 16)
                    .putShort(int16("nr_tags", nrTags)).putInt(flags).putLong(key).array();
            case Message.Add add -> {
                byte[] payload = add.payload();
                if (payload.length > Limits.MAX_PAYLOAD) {
                    throw new IllegalArgumentException("payload of " + payload.length + " bytes is over the limit of " + Limits.MAX_PAYLOAD);
                }
                yield header(opcode, 16 + payload.length).putShort(int16("tag", add.tag())).putInt(add.idx())
                        .putInt(add.ufd()).putInt(payload.length).put(payload).array();
            }
            case Message.Del(int tag, int idx) -> header(opcode, 8).putShort(int16("tag", tag)).putInt(idx).array();
            case Message.Get(int tag, int idx) -> header(opcode, 8).putShort(int16("tag", tag)).putInt(idx).array();
            case Message.Tag(int tag) -> header(opcode, 4).putShort(int16("tag", tag)).array();
            case Message.Inf(int nr, int total) -> header(opcode, 12).putShort((short) 0).putInt(nr).putInt(total).array();
            case Message.GetBatch(int tag, int from, int max) -> header(opcode, 12).putShort(int16("tag", tag)).putInt(from).putInt(max).array();
            case Message.Batch batch -> batch(opcode, batch);
            case Message.Rep(int rc, String text) -> {
                byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                if (bytes.length + 1 > Limits.MAX_REPLY) {
                    throw new IllegalArgumentException("reply text of " + bytes.length + " bytes is over the limit of " + (Limits.MAX_REPLY - 1));
                }
                yield header(opcode, 6 + bytes.length + 1).putShort(int16("rc", rc)).putShort((short) (bytes.length + 1))
                        .put(bytes).put((byte) 0).array();
            }
        };
    }

    private static byte[] batch(Opcode opcode, Message.Batch batch) {
        if (batch.entries().size() > Extension.MAX_BATCH) {
            throw new IllegalArgumentException("a batch carries at most " + Extension.MAX_BATCH + " slots, not " + batch.entries().size());
        }
        int size = 0;
        for (Message.Batch.Entry entry : batch.entries()) {
            if (entry.payload().length > Limits.MAX_PAYLOAD) {
                throw new IllegalArgumentException("payload of " + entry.payload().length + " bytes is over the limit of " + Limits.MAX_PAYLOAD);
            }
            size += Extension.entrySize(entry.payload().length);
        }
        ByteBuffer out = header(opcode, 16 + size).putShort(int16("tag", batch.tag())).putShort((short) batch.entries().size())
                .putShort((short) batch.descriptors()).putInt(batch.next()).putInt(size);
        for (Message.Batch.Entry entry : batch.entries()) {
            out.putInt(entry.idx()).putInt(entry.ufd()).putInt(entry.payload().length)
                    .putInt((entry.hasDescriptor() ? Extension.ENTRY_HAS_DESCRIPTOR : 0) | entry.description()).put(entry.payload());
        }
        return out.array();
    }

    private static ByteBuffer header(Opcode opcode, int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder()).putShort(opcode.code);
    }

    private static short int16(String field, int value) {
        if (value < Short.MIN_VALUE || value > Short.MAX_VALUE) {
            throw new IllegalArgumentException(field + " " + value + " does not fit the wire's int16");
        }
        return (short) value;
    }
}
