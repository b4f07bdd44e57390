package dev.fabric.fab.fabfile;

import java.nio.file.Path;
import java.util.List;

/**
 * One rule after evaluation: node names of its targets and sources (file paths relative to the
 * project root, or {@code @name} for nofile nodes), its formula with every variable expanded (null
 * when the rule only adds edges), the directory the formula runs in, and where it was written; {@code depfile}
 * (a node name, or null) is the make-syntax file in which the formula reports the dependencies it discovered.
 */
public record Rule(List<String> targets, List<String> sources, String formula, Path dir, String origin, String depfile) {
    public Rule {
        targets = List.copyOf(targets);
        sources = List.copyOf(sources);
    }
}
