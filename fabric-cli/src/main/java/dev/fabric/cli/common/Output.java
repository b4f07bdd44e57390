package dev.fabric.cli.common;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintWriter;
import java.util.function.Supplier;

/**
 * What a command prints: results on stdout (a table for people, or the server's JSON for scripts
 * with {@code -o json}), notes on stderr. Every call flushes, so a line a script reads is out
 * before the next request starts.
 */
public final class Output {

    private final PrintWriter out;
    private final PrintWriter err;
    private final JsonMapper json;

    public Output(PrintWriter out, PrintWriter err, JsonMapper json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    /**
     * The answer as JSON (pretty), or the table the supplier renders; a supplier that has nothing to
     * show returns {@code ""} after saying why with {@link #note}.
     */
    public void show(OutputFormat format, JsonNode answer, Supplier<String> table) {
        if (format == OutputFormat.json) {
            json(answer);
        } else {
            text(table.get());
        }
    }

    /** One line on stdout. */
    public void line(String line) {
        out.println(line);
        out.flush();
    }

    /** Text as it is (a rendered table ends its own lines). */
    public void text(String text) {
        out.print(text);
        out.flush();
    }

    /** Pretty-printed JSON on stdout. */
    public void json(JsonNode node) {
        line(json.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }

    /** JSON on one line, for streams of objects ({@code watch -o json}). */
    public void jsonLine(JsonNode node) {
        line(json.writeValueAsString(node));
    }

    /** A line on stderr: progress, "nothing found", reconnections. */
    public void note(String line) {
        err.println(line);
        err.flush();
    }
}
