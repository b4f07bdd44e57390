package dev.fabric.spawner.reach;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a {@link RelayFrame} as the bytes of one WebSocket binary message. Layout (big-endian):
 * a tag byte ({@code 1} Welcome, {@code 2} Request, {@code 3} Response), then
 * <ul>
 *   <li>Welcome: bridge id (text);</li>
 *   <li>Request: id (8 bytes), method (text), target (text), headers, body;</li>
 *   <li>Response: id (8 bytes), status (2 bytes), headers, body;</li>
 * </ul>
 * where a text is a 4-byte length and that many UTF-8 bytes, headers a 2-byte count of name and
 * value texts, and a body a 4-byte length and its bytes.
 */
public final class RelayFrameEncoder {

    static final byte WELCOME = 1;
    static final byte REQUEST = 2;
    static final byte RESPONSE = 3;

    private RelayFrameEncoder() {}

    public static byte[] encode(RelayFrame frame) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(frame instanceof RelayFrame.Welcome ? 64 : 512);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            switch (frame) {
                case RelayFrame.Welcome(String bridgeId) -> {
                    out.writeByte(WELCOME);
                    text(out, bridgeId);
                }
                case RelayFrame.Request(long id, String method, String target, List<RelayFrame.Header> headers, byte[] body) -> {
                    out.writeByte(REQUEST);
                    out.writeLong(id);
                    text(out, method);
                    text(out, target);
                    headers(out, headers);
                    body(out, body);
                }
                case RelayFrame.Response(long id, int status, List<RelayFrame.Header> headers, byte[] body) -> {
                    out.writeByte(RESPONSE);
                    out.writeLong(id);
                    out.writeShort(status);
                    headers(out, headers);
                    body(out, body);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("a byte array does not fail to be written", e);
        }
        return bytes.toByteArray();
    }

    private static void headers(DataOutputStream out, List<RelayFrame.Header> headers) throws IOException {
        if (headers.size() > RelayFrameDecoder.MAX_HEADERS) {
            throw new IllegalArgumentException("a relayed message carries at most " + RelayFrameDecoder.MAX_HEADERS + " header fields");
        }
        out.writeShort(headers.size());
        for (RelayFrame.Header header : headers) {
            text(out, header.name());
            text(out, header.value());
        }
    }

    private static void text(DataOutputStream out, String text) throws IOException {
        body(out, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void body(DataOutputStream out, byte[] body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body;
        out.writeInt(bytes.length);
        out.write(bytes);
    }
}
