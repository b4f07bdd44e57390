package dev.fabric.fab.graph;

/** What a node of the graph stands for. */
public enum NodeKind {
    /** A file nothing produces: a source the user writes. */
    PRIMARY,
    /** A file a formula produces. */
    SECONDARY,
    /** A task or a group, {@code @name}: no file. */
    NOFILE
}
