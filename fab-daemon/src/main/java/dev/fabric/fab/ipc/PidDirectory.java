package dev.fabric.fab.ipc;

import java.nio.file.Path;

/**
 * A daemon's own directory {@code <fabtmpdir>/pid/<pid>}. fabd's holds {@code dsc/<n>/{cmd,err,out}}
 * and {@code stamp}; faba's holds {@code bp/<stage>/<n>/{cmd,err,exit,out,prod}}, {@code bp/commands},
 * {@code bp/stages} and {@code stamp}, plus {@code changes} (the paths its watcher saw change, which
 * a signal alone cannot carry). The stamp's modification time is the daemon's heartbeat.
 */
public record PidDirectory(Path dir) {
    public static PidDirectory of(IpcRoots roots, long pid) {
        return new PidDirectory(roots.tmp().resolve("pid").resolve(Long.toString(pid)));
    }

    public Path dsc() { return dir.resolve("dsc"); }
    public Path bp() { return dir.resolve("bp"); }
    public Path stamp() { return dir.resolve("stamp"); }
    public Path stages() { return dir.resolve("bp/stages"); }
    public Path commands() { return dir.resolve("bp/commands"); }
    public Path changes() { return dir.resolve("changes"); }

    /** {@code bp/<stage>/<n>}, 1-based like the progress lines. */
    public Path command(int stage, int n) {
        return dir.resolve("bp").resolve(Integer.toString(stage)).resolve(Integer.toString(n));
    }

    public Path stage(int stage) {
        return dir.resolve("bp").resolve(Integer.toString(stage));
    }
}
