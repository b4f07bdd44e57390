package dev.fabric.fab.build;

import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Listener;
import dev.fabric.fab.plan.Command;

import java.io.PrintStream;
import java.util.List;

/** ninja-like progress of a build run in this process: one line rewritten in place on a terminal, plain lines otherwise. */
public record Progress(Log log, PrintStream out, PrintStream err, boolean terminal) implements Listener {

    /** The progress line of one command, as every fab prints it (faba writes the same line into {@code logs}). */
    public static String line(int stage, int stages, int started, int total, String description) {
        return "[stage %d/%d] [%d/%d] %s".formatted(stage, stages, started, total, description);
    }

    @Override
    public void started(int stage, int stages, int started, int total, Command command) {
        String line = line(stage, stages, started, total, command.description());
        if (log.enabled(Log.Category.INFO)) {
            synchronized (out) {
                if (terminal) {
                    out.print("\r\033[K" + line);
                    out.flush();
                } else {
                    out.println(line);
                }
            }
        }
        log.log(Log.Category.BPCMD, command.formula().command());
    }

    @Override
    public void discovered(Command command, List<String> dependencies) {
        log.log(Log.Category.DSCRES, command.description() + " discovered " + String.join(" ", dependencies));
    }

    @Override
    public void finished(CommandResult r) {
        log.log(Log.Category.BPEXEC, "exit " + r.exitStatus() + ": " + r.command().description());
        // A failed command's output goes into its CMDFAIL message instead (Runner.failure); a discovery's stdout is
        // data (+d, +DSCRES), not output.
        if (r.succeeded()) {
            synchronized (out) {
                if (r.stdout().length > 0 && !r.command().discovers()) {
                    if (terminal) {
                        out.println();
                    }
                    out.write(r.stdout(), 0, r.stdout().length);
                }
            }
            if (r.stderr().length > 0) {
                synchronized (err) {
                    err.write(r.stderr(), 0, r.stderr().length);
                }
            }
        }
    }
}
