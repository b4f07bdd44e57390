package dev.fabric.fab.graph;

import java.util.List;

/**
 * A node: a file path relative to the project root (or absolute when outside it), or {@code @name}.
 * {@code sources} are the nodes it depends on (its edges); {@code formula} produces it, or is null.
 */
public record Node(String name, NodeKind kind, List<String> sources, Formula formula) {
    public Node {
        sources = List.copyOf(sources);
    }

    public boolean isFile() {
        return kind != NodeKind.NOFILE;
    }
}
