package dev.fabric.cli.http;

import tools.jackson.databind.json.JsonMapper;

/**
 * An error answer of a fabric server (the registry, a spawner, a member), as the CLI shows it:
 * decoded by fabric-core's {@link dev.fabric.core.problem.Problem}, the one reader of problems,
 * with {@code http-<status>} standing in for a reason the answer did not carry.
 *
 * @param status the HTTP status
 * @param reason the stable reason ({@code unknown-instance}, {@code bad-signature}...), or {@code http-<status>} when the answer had none
 * @param detail what happened, in the server's words
 */
public record Problem(int status, String reason, String detail) {

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
        dev.fabric.core.problem.Problem problem = dev.fabric.core.problem.Problem.decode(status, statusText, body, json, who);
        return new Problem(status, problem.hasReason() ? problem.reason() : "http-" + status, problem.detail());
    }

    /** {@code <detail> (<reason>, HTTP <status>)}, the line after {@code fabric: }. */
    public String message() {
        return detail + " (" + reason + ", HTTP " + status + ")";
    }
}
