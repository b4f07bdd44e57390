package dev.fabric.fab.plan;

import dev.fabric.fab.graph.Formula;

import java.util.List;

/**
 * One command of a plan: a formula to run, why it is out of date, and the file sources whose content
 * the state file records when it succeeds.
 */
public record Command(Formula formula, String reason, List<String> fileSources) {
    public Command {
        fileSources = List.copyOf(fileSources);
    }

    /** A short description for progress lines: the first target. */
    public String description() {
        return formula.targets().getFirst() + (formula.targets().size() > 1 ? " (+" + (formula.targets().size() - 1) + ")" : "");
    }
}
