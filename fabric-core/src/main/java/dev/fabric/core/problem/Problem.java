package dev.fabric.core.problem;

import org.springframework.web.client.RestClientResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;

/**
 * An error answer of a fabric server, decoded: RFC 9457 {@code problem+json} with the fabric's
 * {@code reason}, or whatever else came back (a proxy's HTML page, an empty body) made readable.
 * The one reader of problems: clients of the registry, the spawner and members all decode here.
 *
 * @param status the HTTP status
 * @param reason the fabric's stable reason, or empty when the answer carried none (see {@link #hasReason()})
 * @param detail what happened, in the server's words, or made up from the status when it said nothing
 * @param type the problem type URI ({@code urn:fabric:problem:<reason>}), or empty
 * @param title the problem's title (the status phrase), or the status text of the answer
 */
public record Problem(int status, String reason, String detail, String type, String title) {

    /** Every fabric problem type is this prefix and its reason. */
    public static final String TYPE_PREFIX = "urn:fabric:problem:";

    /** The longest detail kept from an answer that is not a problem. */
    static final int MAX_DETAIL = 300;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public Problem {
        reason = reason == null ? "" : reason;
        detail = detail == null ? "" : detail;
        type = type == null ? "" : type;
        title = title == null ? "" : title;
    }

    /** The problem type of a reason: {@code urn:fabric:problem:<reason>}. */
    public static String typeOf(String reason) {
        return TYPE_PREFIX + reason;
    }

    /** The error answer a Spring {@code RestClient} raised, decoded with a default mapper. */
    public static Problem decode(RestClientResponseException answer, String who) {
        return decode(answer.getStatusCode().value(), answer.getStatusText(), answer.getResponseBodyAsByteArray(), JSON, who);
    }

    /** {@link #decode(int, String, byte[], JsonMapper, String)} with a default mapper. */
    public static Problem decode(int status, String statusText, byte[] body, String who) {
        return decode(status, statusText, body, JSON, who);
    }

    /**
     * Decodes an error answer; never fails.
     *
     * @param statusText the answer's status text, if any
     * @param who what answered, for a detail made up when the answer has none ({@code the registry}, {@code member queue-1})
     */
    public static Problem decode(int status, String statusText, byte[] body, JsonMapper json, String who) {
        String text = body == null ? "" : new String(body, StandardCharsets.UTF_8).strip();
        String fallbackTitle = statusText == null ? "" : statusText.strip();
        if (text.startsWith("{")) {
            try {
                JsonNode problem = json.readTree(text);
                String detail = textOf(problem, "detail");
                String title = textOf(problem, "title");
                if (detail == null) {
                    detail = title;
                }
                return new Problem(status, textOf(problem, "reason"), detail == null ? madeUp(who, status, fallbackTitle) : detail,
                        textOf(problem, "type"), title == null ? fallbackTitle : title);
            } catch (JacksonException | IllegalArgumentException notJson) {
                // Not JSON after all: show the text.
            }
        }
        String firstLine = text.lines().findFirst().orElse("").strip();
        if (firstLine.length() > MAX_DETAIL) {
            firstLine = firstLine.substring(0, MAX_DETAIL) + "...";
        }
        String detail = firstLine.isEmpty() || firstLine.startsWith("<") ? madeUp(who, status, fallbackTitle) : firstLine;
        return new Problem(status, "", detail, "", fallbackTitle);
    }

    /** Whether the answer carried a fabric reason. */
    public boolean hasReason() {
        return !reason.isEmpty();
    }

    /** Whether the answer's reason is {@code reason}. */
    public boolean is(String reason) {
        return this.reason.equals(reason);
    }

    /** {@code <detail> (<reason>, HTTP <status>)}, or {@code <detail> (HTTP <status>)} without a reason. */
    public String message() {
        return detail + " (" + (hasReason() ? reason + ", " : "") + "HTTP " + status + ")";
    }

    private static String textOf(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() || value.asString().isBlank() ? null : value.asString();
    }

    private static String madeUp(String who, int status, String statusText) {
        return who + " answered " + status + (statusText.isEmpty() ? "" : " " + statusText);
    }
}
