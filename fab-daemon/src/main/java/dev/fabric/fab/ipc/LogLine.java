package dev.fabric.fab.ipc;

/**
 * One line of a project's {@code logs} file: what the daemons have to say to the waiting client, which
 * prints it. {@code P} a progress line (rewritten in place on a terminal), {@code O} standard output,
 * {@code E} standard error. A line without a known tag (a daemon's own crash report) goes to standard error.
 */
public record LogLine(char channel, String text) {
    public static final char PROGRESS = 'P';
    public static final char OUT = 'O';
    public static final char ERR = 'E';

    public String encode() {
        return channel + " " + text.replace('\n', ' ') + "\n";
    }

    public static LogLine decode(String line) {
        if (line.length() >= 2 && line.charAt(1) == ' ' && "POE".indexOf(line.charAt(0)) >= 0) {
            return new LogLine(line.charAt(0), line.substring(2));
        }
        return new LogLine(ERR, line);
    }
}
