package dev.fabric.fab.plan;

import java.util.List;

/** A stage of a plan: its commands depend only on earlier stages, so they may all run at once. */
public record Stage(int number, List<Command> commands) {
    public Stage {
        commands = List.copyOf(commands);
    }
}
