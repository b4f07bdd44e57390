package dev.fabric.fab.exec;

import dev.fabric.fab.plan.Command;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What one command did: its exit status, everything it wrote to stdout and stderr, and the products
 * it declared (its file targets). Part 2 lays these out in the seed's {@code bp/<stage>/<n>/} files.
 */
public record CommandResult(Command command, int stage, int index, int exitStatus, byte[] stdout, byte[] stderr, List<String> products) {

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
