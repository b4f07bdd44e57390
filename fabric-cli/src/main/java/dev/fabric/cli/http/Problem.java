package dev.fabric.cli.http;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;

/**
 * An error answer of a fabric server (the registry, a spawner, a member): RFC 9457
 * {@code application/problem+json} with the fabric's {@code reason}, or whatever else came back (a
 * proxy's HTML page, an empty body), made readable.
 *
 * @param status the HTTP status
 * @param reason the stable reason ({@code unknown-instance}, {@code bad-signature}...), or {@code http-<status>} when the answer had none
 * @param detail what happened, in the server's words
 */
public record Problem(int status, String reason, String detail) {

    private static final int MAX_DETAIL = 300;

    /** Decodes an error answer of the registry; never fails. */
    public static Problem decode(int status, String statusText, byte[] body, JsonMapper json) {
        return decode(status, statusText, body, json, "the registry");
    }

    /**
     * Decodes an error answer of any fabric server; never fails.
     *
     * @param who what answered, for a detail made up when the answer has none ({@code the spawner}, {@code member queue-1})
     */
    public static Problem decode(int status, String statusText, byte[] body, JsonMapper json, String who) {
        String text = body == null ? "" : new String(body, StandardCharsets.UTF_8).strip();
        if (text.startsWith("{")) {
            try {
                JsonNode problem = json.readTree(text);
                String reason = textOf(problem, "reason");
                String detail = textOf(problem, "detail");
                if (detail == null) {
                    detail = textOf(problem, "title");
                }
                return new Problem(status, reason == null ? fallbackReason(status) : reason,
                        detail == null ? fallbackDetail(who, status, statusText) : detail);
            } catch (JacksonException e) {
                // Not JSON after all: fall through and show the text.
            }
        }
        String firstLine = text.lines().findFirst().orElse("").strip();
        if (firstLine.length() > MAX_DETAIL) {
            firstLine = firstLine.substring(0, MAX_DETAIL) + "...";
        }
        String detail = firstLine.isEmpty() || firstLine.startsWith("<")
                ? fallbackDetail(who, status, statusText)
                : firstLine;
        return new Problem(status, fallbackReason(status), detail);
    }

    /** {@code <detail> (<reason>, HTTP <status>)}, the line after {@code fabric: }. */
    public String message() {
        return detail + " (" + reason + ", HTTP " + status + ")";
    }

    private static String textOf(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() || value.asString().isBlank() ? null : value.asString();
    }

    private static String fallbackReason(int status) {
        return "http-" + status;
    }

    private static String fallbackDetail(String who, int status, String statusText) {
        return who + " answered " + status + (statusText == null || statusText.isBlank() ? "" : " " + statusText);
    }
}
