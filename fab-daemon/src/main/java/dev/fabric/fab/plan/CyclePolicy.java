package dev.fabric.fab.plan;

/** What to do about a dependency cycle. */
public enum CyclePolicy {
    /** Say so once per unique cycle, break it at the edge that closes it, and build (the default). */
    WARN,
    /** Exit 11 (CYCLE) naming the cycle. */
    FAIL,
    /** Break it at the edge that closes it, silently. */
    DEAL
}
