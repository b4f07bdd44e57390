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

    /**
     * A discovery command: it makes nothing (its formula has no target) and its standard output, the
     * dependencies of its one source, is what it is run for; no state records it as built.
     */
    public static Command discovery(Formula formula) {
        return new Command(formula, "discover the dependencies of " + formula.sources().getFirst(), List.of());
    }

    public boolean discovers() {
        return formula.targets().isEmpty();
    }

    /** A short description for progress lines: the first target (a discovery: {@code discover} and its source). */
    public String description() {
        if (discovers()) {
            return "discover " + formula.sources().getFirst();
        }
        return formula.targets().getFirst() + (formula.targets().size() > 1 ? " (+" + (formula.targets().size() - 1) + ")" : "");
    }
}
