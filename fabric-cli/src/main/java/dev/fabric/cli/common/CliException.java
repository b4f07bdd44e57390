package dev.fabric.cli.common;

import java.util.List;

/**
 * A failure the user sees: one line saying what happened (printed as {@code fabric: <message>}),
 * optional lines saying what to do next, and the exit code of its class ({@link ExitCodes}).
 */
public class CliException extends RuntimeException {

    private final int exitCode;
    private final List<String> hints;

    public CliException(int exitCode, String message, List<String> hints) {
        super(message, null, false, false);
        this.exitCode = exitCode;
        this.hints = List.copyOf(hints);
    }

    public CliException(int exitCode, String message) {
        this(exitCode, message, List.of());
    }

    public int exitCode() {
        return exitCode;
    }

    public List<String> hints() {
        return hints;
    }
}
