package dev.fabric.spawner.launch;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@code GET /api/v1/members/{id}/log}: the end of a member's log, as its launcher captured it.
 *
 * @param id the member
 * @param file where the log is, on the host that runs the member
 * @param size the whole log's size in bytes
 * @param truncated whether {@code text} is only the end of it
 * @param text the end of the log, at most the bytes asked for (UTF-8; a character cut at the start is replaced)
 */
public record MemberLog(String id, String file, long size, boolean truncated, String text) {

    /** The last {@code maxBytes} of {@code content}, a log of {@code size} bytes whose end it is. */
    public static MemberLog tail(String id, String file, long size, byte[] content, int maxBytes) {
        byte[] end = content.length > maxBytes ? Arrays.copyOfRange(content, content.length - maxBytes, content.length) : content;
        return new MemberLog(id, file, size, end.length < size, new String(end, StandardCharsets.UTF_8));
    }
}
