package dev.fabric.escrow.wire;

import java.io.FileDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decodes a byte stream into {@link Frame}s, one message at a time, by opcode.
 * <p>
 * The C side trusts one {@code recvmsg} to hold one message; a stream socket gives no such
 * promise, so this decoder parses the opcode, then the fixed header, then exactly the {@code nob}
 * bytes the header announces, however the bytes are split. {@link #bytesWanted()} tells the
 * transport how much to read next so it never reads past the end of a message: a descriptor
 * travels with the first byte of its message, and reading into the next message could attach
 * that message's descriptor to this one. A descriptor that arrives with any byte of a message is
 * held until the message is complete and then handed over in the frame.
 * <p>
 * After a {@link DecodeException} the stream cannot be resynchronised: the decoder refuses
 * further input, and {@link #releaseDescriptors()} hands back what it held so the caller can close it.
 * Not thread-safe: one decoder per connection.
 */
public final class MessageDecoder {

    private final ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
    private final List<FileDescriptor> held = new ArrayList<>(1);
    /** Descriptors of the current read, for the message that will hold its last byte. */
    private final List<FileDescriptor> pending = new ArrayList<>(1);
    private Opcode opcode;
    private byte[] body;
    private int bodyFilled;
    private boolean failed;

    /**
     * How many bytes the decoder needs next, never past the end of the message being read
     * (2 for a new message's opcode). Always positive.
     */
    public int bytesWanted() {
        if (opcode == null) {
            return 2 - header.position();
        }
        if (header.position() < opcode.headerSize) {
            return opcode.headerSize - header.position();
        }
        return body.length - bodyFilled;
    }

    /** True when part of a message (or a descriptor) has arrived but the message is not complete. */
    public boolean inMessage() {
        return header.position() > 0 || !held.isEmpty() || !pending.isEmpty();
    }

    /**
     * Consumes bytes from {@code in} up to the end of the current message and returns the message
     * once complete; bytes after its end stay in {@code in} for the next call, which passes the same
     * buffer again (with no new descriptors) until it is empty.
     * <p>
     * Descriptors belong to the message that holds the <em>last</em> byte of the read they came with:
     * Linux ends a read of a stream socket right after the bytes of a {@code sendmsg} that carried
     * descriptors, and hands them over with it. A read that stops at the end of a message (as a C
     * client's, which never reads further) gives them to that message; a read of whatever has
     * arrived, several pipelined messages, gives them to the last message it reaches into, the one
     * whose {@code sendmsg} brought them.
     *
     * @param arrived descriptors that arrived with these bytes; the decoder owns them from now on
     */
    public Optional<Frame> decode(ByteBuffer in, FileDescriptor... arrived) throws DecodeException {
        if (failed) {
            throw new IllegalStateException("decoder failed earlier; the stream cannot be resynchronised");
        }
        for (FileDescriptor fd : arrived) {
            if (fd != null) {
                pending.add(fd);
            }
        }
        if (!in.hasRemaining()) {
            holdPending();
        }
        while (in.hasRemaining()) {
            if (opcode == null) {
                copy(in, 2 - header.position());
                holdPendingAtTheEnd(in);
                if (header.position() < 2) {
                    continue;
                }
                short code = header.getShort(0);
                opcode = Opcode.of(code);
                if (opcode == null) {
                    throw fail(DecodeException.Reason.UNKNOWN_OPCODE, code, "unknown opcode " + code);
                }
                checkDescriptorCount();
            } else if (header.position() < opcode.headerSize) {
                copy(in, opcode.headerSize - header.position());
                holdPendingAtTheEnd(in);
                if (header.position() < opcode.headerSize) {
                    continue;
                }
                body = new byte[bodySize()];
                checkDescriptorCount();
            } else {
                int n = Math.min(in.remaining(), body.length - bodyFilled);
                in.get(body, bodyFilled, n);
                bodyFilled += n;
                holdPendingAtTheEnd(in);
            }
            if (opcode != null && header.position() == opcode.headerSize && bodyFilled == body.length) {
                return Optional.of(complete());
            }
        }
        return Optional.empty();
    }

    /** Once this message has taken the buffer's last byte, the descriptors of that read are its own. */
    private void holdPendingAtTheEnd(ByteBuffer in) throws DecodeException {
        if (!in.hasRemaining()) {
            holdPending();
        }
    }

    private void holdPending() throws DecodeException {
        if (!pending.isEmpty()) {
            held.addAll(pending);
            pending.clear();
            checkDescriptorCount();
        }
    }

    /**
     * At most one descriptor per message of the C protocol; a batch ({@code BLK}) at most what its
     * header announces (at most {@link Extension#MAX_BATCH} until the header is read). Descriptors
     * arrive with a message's first byte, before its opcode is known.
     */
    private void checkDescriptorCount() throws DecodeException {
        int allowed;
        if (opcode == null) {
            allowed = Extension.MAX_BATCH;
        } else if (opcode != Opcode.BLK) {
            allowed = 1;
        } else {
            allowed = body == null ? Extension.MAX_BATCH : header.getShort(6);
        }
        if (held.size() > allowed) {
            throw fail(DecodeException.Reason.TOO_MANY_DESCRIPTORS, opcode == null ? -1 : opcode.code, held.size()
                    + " descriptors arrived with one message; " + (opcode == Opcode.BLK && body != null
                    ? "the batch announces " + allowed : "a message carries at most " + allowed));
        }
    }

    /** Hands back (and forgets) the descriptors held for an incomplete or failed message. */
    public List<FileDescriptor> releaseDescriptors() {
        List<FileDescriptor> out = new ArrayList<>(held);
        out.addAll(pending);
        held.clear();
        pending.clear();
        return List.copyOf(out);
    }

    private void copy(ByteBuffer in, int max) {
        int n = Math.min(max, in.remaining());
        ByteBuffer slice = in.slice(in.position(), n);
        header.put(slice);
        in.position(in.position() + n);
    }

    private int bodySize() throws DecodeException {
        return switch (opcode) {
            case ADD -> {
                int nob = header.getInt(12);
                if (nob < 0 || nob > Limits.MAX_PAYLOAD) {
                    throw fail(DecodeException.Reason.BAD_LENGTH, opcode.code,
                            "ADD announces " + nob + " payload bytes; the limit is 0.." + Limits.MAX_PAYLOAD);
                }
                yield nob;
            }
            case REP -> {
                int nob = header.getShort(4);
                if (nob < 0 || nob > Limits.MAX_REPLY) {
                    throw fail(DecodeException.Reason.BAD_LENGTH, opcode.code,
                            "REP announces " + nob + " text bytes; the limit is 0.." + Limits.MAX_REPLY);
                }
                yield nob;
            }
            case BLK -> {
                int count = header.getShort(4);
                int fds = header.getShort(6);
                int size = header.getInt(12);
                if (count < 0 || count > Extension.MAX_BATCH) {
                    throw fail(DecodeException.Reason.BAD_LENGTH, opcode.code,
                            "BLK announces " + count + " slots; a batch carries 0.." + Extension.MAX_BATCH);
                }
                if (fds < 0 || fds > count) {
                    throw fail(DecodeException.Reason.BAD_LENGTH, opcode.code,
                            "BLK announces " + fds + " descriptors for " + count + " slots");
                }
                if (size < count * Extension.ENTRY_HEADER || size > Extension.MAX_BATCH_BYTES) {
                    throw fail(DecodeException.Reason.BAD_LENGTH, opcode.code, "BLK announces " + size + " bytes for " + count
                            + " slots; the limit is " + count * Extension.ENTRY_HEADER + ".." + Extension.MAX_BATCH_BYTES);
                }
                yield size;
            }
            default -> 0;
        };
    }

    private Frame complete() throws DecodeException {
        Message message = switch (opcode) {
            case HEL -> new Message.Hel(header.getShort(2), header.getInt(4), header.getLong(8));
            case ADD -> new Message.Add(header.getShort(2), header.getInt(4), header.getInt(8), body);
            case DEL -> new Message.Del(header.getShort(2), header.getInt(4));
            case REP -> new Message.Rep(header.getShort(2), text(body));
            case TAG -> new Message.Tag(header.getShort(2));
            case INF -> new Message.Inf(header.getInt(4), header.getInt(8));
            case GET -> new Message.Get(header.getShort(2), header.getInt(4));
            case GTB -> new Message.GetBatch(header.getShort(2), header.getInt(4), header.getInt(8));
            case BLK -> batch();
        };
        List<FileDescriptor> descriptors = List.copyOf(held);
        held.clear();
        header.clear();
        opcode = null;
        body = null;
        bodyFilled = 0;
        return new Frame(message, descriptors);
    }

    private Message.Batch batch() throws DecodeException {
        int count = header.getShort(4);
        int fds = header.getShort(6);
        ByteBuffer entries = ByteBuffer.wrap(body).order(ByteOrder.nativeOrder());
        List<Message.Batch.Entry> out = new ArrayList<>(count);
        int withDescriptor = 0;
        for (int i = 0; i < count; i++) {
            if (entries.remaining() < Extension.ENTRY_HEADER) {
                throw fail(DecodeException.Reason.BAD_BATCH, opcode.code, "BLK entry " + i + " of " + count + " runs past the batch's size");
            }
            int idx = entries.getInt();
            int ufd = entries.getInt();
            int nob = entries.getInt();
            int flags = entries.getInt();
            if (nob < 0 || nob > Limits.MAX_PAYLOAD || nob > entries.remaining()) {
                throw fail(DecodeException.Reason.BAD_BATCH, opcode.code, "BLK entry " + i + " announces " + nob
                        + " payload bytes; " + entries.remaining() + " are left in the batch, at most " + Limits.MAX_PAYLOAD);
            }
            byte[] payload = new byte[nob];
            entries.get(payload);
            boolean hasDescriptor = (flags & Extension.ENTRY_HAS_DESCRIPTOR) != 0;
            withDescriptor += hasDescriptor ? 1 : 0;
            out.add(new Message.Batch.Entry(idx, ufd, hasDescriptor, payload, hasDescriptor ? flags & Extension.ENTRY_DESCRIPTION : 0));
        }
        if (entries.hasRemaining()) {
            throw fail(DecodeException.Reason.BAD_BATCH, opcode.code, "BLK has " + entries.remaining() + " bytes after its " + count + " entries");
        }
        if (withDescriptor != fds || held.size() != fds) {
            throw fail(DecodeException.Reason.BAD_BATCH, opcode.code, "BLK announces " + fds + " descriptors; " + withDescriptor
                    + " entries have one and " + held.size() + " arrived");
        }
        return new Message.Batch(header.getShort(2), header.getInt(8), out);
    }

    private static String text(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    private DecodeException fail(DecodeException.Reason reason, int code, String message) {
        failed = true;
        return new DecodeException(reason, code, message);
    }
}
