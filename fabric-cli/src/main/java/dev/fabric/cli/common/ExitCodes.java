package dev.fabric.cli.common;

import java.util.List;

/**
 * The exit status of every {@code fabric} command, one per class of outcome, so that scripts can
 * tell "no such instance" from "registry down" without reading the message.
 */
public final class ExitCodes {

    public static final int OK = 0;
    /** The command line is wrong, or the registry found the request invalid (HTTP 400, 413...). */
    public static final int USAGE = 1;
    /** The instance (or other resource) does not exist (HTTP 404). */
    public static final int NOT_FOUND = 2;
    /** The registry refused the request's signature: wrong key, clock skew... (HTTP 401, 403). */
    public static final int REFUSED = 3;
    /** The request conflicts with the registry's state (HTTP 409, 410 for a compacted watch revision). */
    public static final int CONFLICT = 4;
    /** Nothing answers at the registry's (or the spawner's, or a member's) URL, or it stopped answering. */
    public static final int UNREACHABLE = 5;
    /** The registry failed (HTTP 5xx) or answered something unreadable. */
    public static final int SERVER_ERROR = 6;
    /** The local fabric keys are missing or unusable. */
    public static final int KEYS = 7;
    /** A bug in the CLI itself; the stack trace goes to stderr. */
    public static final int INTERNAL = 8;
    /**
     * A member spawned with {@code --wait} did not come up: FAILED, LOST or STOPPED, or not RUNNING
     * within the timeout; or an instance waited for with {@code service --wait-for} was not in its state in time;
     * or a spawn (a restart) was not answered within its timeout, while its spawner may still be starting the member;
     * or {@code pilot submit --wait} saw its pilot end, or not ACTIVE in time; or {@code task wait} timed out.
     */
    public static final int MEMBER_FAILED = 9;
    /** Interrupted (Ctrl-C), as for any program ended by SIGINT. */
    public static final int INTERRUPTED = 130;

    /** The exit-code list of {@code fabric --help}: keep it in step with the constants above and the README. */
    public static final List<String> HELP = List.of(
            "0:success",
            "1:usage: bad command line, or a request the registry calls invalid (400)",
            "2:not found: no such instance (HTTP 404)",
            "3:refused: the registry rejected the signature (HTTP 401/403)",
            "4:conflict: the registry's or a member's state forbids it (409, 410, 412)",
            "5:registry (or spawner, member) unreachable: is it running? (./fabric up)",
            "6:registry error (HTTP 5xx) or an answer the CLI cannot read",
            "7:local fabric keys missing or unusable (fabric keys init)",
            "8:internal error of the CLI (a bug: please report it)",
            "9:spawn/pilot --wait: it failed or ended; a spawn or a wait timed out",
            "130:interrupted (Ctrl-C)");

    private ExitCodes() {}

    /** The exit code for an HTTP error status of the registry. */
    public static int forStatus(int status) {
        return switch (status) {
            case 404 -> NOT_FOUND;
            case 401, 403 -> REFUSED;
            case 409, 410, 412 -> CONFLICT;
            default -> status >= 500 || status < 400 ? SERVER_ERROR : USAGE;
        };
    }
}
