package dev.fabric.fab.exec;

import dev.fabric.fab.plan.Command;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What one command did: its exit status, everything it wrote to stdout and stderr, and the products
 * it declared (its file targets), and when its stage started, in the file system's clock
 * ({@link dev.fabric.fab.plan.State#clock}): a source changed since may have changed after the command read it.
 * Through the daemons, faba keeps the same facts in the files of
 * {@code bp/<stage>/<n>/} ({@code exit}, {@code out}, {@code err}, {@code prod}).
 */
public record CommandResult(Command command, int stage, int index, int exitStatus, byte[] stdout, byte[] stderr, List<String> products,
                            long started) {

    public boolean succeeded() {
        return exitStatus == 0;
    }

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }
}
