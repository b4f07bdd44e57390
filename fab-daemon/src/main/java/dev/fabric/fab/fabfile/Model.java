package dev.fabric.fab.fabfile;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A project as its fabfiles describe it: the root (directory of the initial fabfile), every rule of
 * every fabfile invoked, the fabfiles read, the values of variables kept settable (-K) for a
 * buildscript, and the discoveries ({@code discover} statements, one per source).
 */
public record Model(Path root, Path fabfile, List<Rule> rules, List<Path> fabfiles, Map<String, List<String>> kept,
                    List<Discovery> discoveries) {
    public Model {
        rules = List.copyOf(rules);
        discoveries = List.copyOf(discoveries);
        fabfiles = List.copyOf(fabfiles);
        kept = Map.copyOf(kept);
    }
}
