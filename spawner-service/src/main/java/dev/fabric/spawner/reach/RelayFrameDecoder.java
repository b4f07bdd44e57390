package dev.fabric.spawner.reach;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads the bytes {@link RelayFrameEncoder} writes; anything else is a {@link MalformedFrameException}. */
public final class RelayFrameDecoder {

    static final int MAX_HEADERS = 256;
    static final int MAX_TEXT = 64 * 1024;

    private RelayFrameDecoder() {}

    /** Thrown for bytes that are not one whole frame. */
    public static final class MalformedFrameException extends RuntimeException {
        MalformedFrameException(String message) {
            super(message);
        }
    }

    public static RelayFrame decode(ByteBuffer bytes) {
        try {
            RelayFrame frame = switch (bytes.get()) {
                case RelayFrameEncoder.WELCOME -> new RelayFrame.Welcome(text(bytes));
                case RelayFrameEncoder.REQUEST -> new RelayFrame.Request(bytes.getLong(), text(bytes), text(bytes), headers(bytes),
                        body(bytes, Integer.MAX_VALUE));
                case RelayFrameEncoder.RESPONSE -> new RelayFrame.Response(bytes.getLong(), status(bytes), headers(bytes),
                        body(bytes, Integer.MAX_VALUE));
                default -> throw new MalformedFrameException("unknown frame tag " + bytes.get(bytes.position() - 1));
            };
            if (bytes.hasRemaining()) {
                throw new MalformedFrameException(bytes.remaining() + " bytes follow the frame");
            }
            return frame;
        } catch (BufferUnderflowException e) {
            throw new MalformedFrameException("the frame ends early");
        }
    }

    private static int status(ByteBuffer bytes) {
        int status = bytes.getShort() & 0xffff;
        if (status < 100 || status > 599) {
            throw new MalformedFrameException("status " + status + " is not an HTTP status");
        }
        return status;
    }

    private static List<RelayFrame.Header> headers(ByteBuffer bytes) {
        int count = bytes.getShort() & 0xffff;
        if (count > MAX_HEADERS) {
            throw new MalformedFrameException(count + " header fields, over the limit of " + MAX_HEADERS);
        }
        List<RelayFrame.Header> headers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            headers.add(new RelayFrame.Header(text(bytes), text(bytes)));
        }
        return headers;
    }

    private static String text(ByteBuffer bytes) {
        byte[] raw = body(bytes, MAX_TEXT);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFrameException("a text field is not UTF-8");
        }
    }

    private static byte[] body(ByteBuffer bytes, int max) {
        int length = bytes.getInt();
        if (length < 0 || length > max || length > bytes.remaining()) {
            throw new MalformedFrameException("a field of " + length + " bytes does not fit the " + bytes.remaining() + " left");
        }
        byte[] raw = new byte[length];
        bytes.get(raw);
        return raw;
    }
}
