package dev.fabric.fab.graph;

import java.nio.file.Path;
import java.util.List;

/**
 * A formula of the graph: the shell command that produces all its targets at once from its sources,
 * run in {@code dir}. {@code origin} is the fabfile and line that wrote it; {@code depfile} (or null) is
 * where the command reports the dependencies it discovered, in make syntax.
 */
public record Formula(List<String> targets, List<String> sources, String command, Path dir, String origin, String depfile) {
    public Formula {
        targets = List.copyOf(targets);
        sources = List.copyOf(sources);
    }

    /** The key under which the state file remembers this formula: its targets. */
    public String key() {
        if (targets.size() == 1) {
            return targets.getFirst();
        }
        return String.join(" ", targets.stream().sorted().toList());
    }
}
