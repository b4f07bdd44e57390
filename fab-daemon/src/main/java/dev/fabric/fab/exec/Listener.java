package dev.fabric.fab.exec;

import dev.fabric.fab.plan.Command;

import java.util.List;

/** What the runner reports while it works: the CLI prints progress from it; fabd/faba will relay it. */
public interface Listener {
    void started(int stage, int stages, int started, int total, Command command);

    void finished(CommandResult result);

    /** The dependencies a command's depfile reported (after it succeeded). */
    default void discovered(Command command, List<String> dependencies) {
    }
}
