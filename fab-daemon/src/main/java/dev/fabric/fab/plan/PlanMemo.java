package dev.fabric.fab.plan;

import dev.fabric.fab.graph.Formula;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What fabd's last full plan looked at, so that the next plan of the same selection decides from what
 * changed since instead of walking the whole graph (a no-op of 10,000 files evaluates no formula but
 * those a change touched). Held by the {@link State} it was made against: a state read afresh starts
 * without one.
 * <p>
 * A formula's verdict depends only on the existence of its targets, the content of its sources (named
 * in the graph or by its depfile), its last success and its command. So a formula found up to date stays
 * up to date until one of those names is reported changed ({@link State#dirty}), is never vouched for by
 * the watcher ({@link State#unvouched}: links, {@code .git}, files outside the project), or its last
 * success is recorded or forgotten. The memo keeps, per name, the formulas that read it, and the
 * formulas the last plan found out of date (run since, or not): when every one of those is up to date
 * now, nothing is, and the plan is empty. Anything else (one out of date, another selection, another
 * graph, trust withdrawn, cycles broken, a primary source gone, a directory of the plan reported by its
 * own name) makes a full plan, which records a new memo.
 */
final class PlanMemo {
    /** What a plan is a plan of: the graph (by identity, and what discovery added), the selection and the options. */
    record Key(Object graph, List<String> selected, boolean exactly, boolean stopAtNofile, CyclePolicy cycles) {
    }

    /** A graph by identity: the graph fabd keeps until a fabfile or the tree's shape changes. */
    record Same(Object graph) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Same s && s.graph == graph;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(graph);
        }
    }

    private Key key;
    private long epoch;
    /** Name (target, source, discovered source) to the formulas that read it. */
    private final Map<String, List<Formula>> readers = new HashMap<>();
    /** The primary files in the plan's reach: one gone is UNSATISFIED, which only a full plan reports. */
    private final Set<String> primaries = new HashSet<>();
    /** Every directory above a name read: one reported by its own name (renamed, removed) is planned in full. */
    private final Set<String> dirs = new HashSet<>();
    /** The formulas the last plan found out of date: up to date once they ran, whether or not anything was reported. */
    private final Set<Formula> pending = Collections.newSetFromMap(new IdentityHashMap<>());
    /** The last success each formula's names were read from: a later one may name more sources (a depfile's). */
    private final Map<Formula, State.Built> indexed = new IdentityHashMap<>();

    /** Whether this memo is of that plan, made while the state had that epoch (no trust withdrawn, nothing forgotten since). */
    boolean holds(Key k, long stateEpoch) {
        return key != null && key.equals(k) && epoch == stateEpoch;
    }

    void clear() {
        key = null;
        readers.clear();
        primaries.clear();
        dirs.clear();
        pending.clear();
        indexed.clear();
    }

    /** Starts the memo of a full plan; {@link #reads} and {@link #primary} then fill it. */
    void start(Key k, long stateEpoch) {
        clear();
        key = k;
        epoch = stateEpoch;
    }

    /**
     * A formula of the full plan and the names its verdict read; out of date ones are checked again
     * next time. Called once per formula: a name the formula already listed is the last of its readers.
     */
    void reads(Formula f, Collection<String> fileSources, State.Built built, boolean outOfDate) {
        for (String t : f.targets()) {
            add(t, f);
        }
        for (String s : fileSources) {
            add(s, f);
        }
        if (built != null) {
            for (String s : built.sources().keySet()) {
                add(s, f);
            }
            indexed.put(f, built);
        }
        if (outOfDate) {
            pending.add(f);
        }
    }

    /** A formula found up to date again: what its last success reads beyond what was read before is added. */
    void upToDate(Formula f, State.Built built) {
        pending.remove(f);
        State.Built before = indexed.get(f);
        if (built == null || built == before) {
            return;
        }
        for (String s : built.sources().keySet()) {
            if (before == null || !before.sources().containsKey(s)) {
                List<Formula> list = readers.get(s);
                if (list == null || list.stream().noneMatch(x -> x == f)) {
                    add(s, f);
                }
            }
        }
        indexed.put(f, built);
    }

    /** A primary file in the plan's reach. */
    void primary(String name) {
        if (primaries.add(name)) {
            addDirs(name);
        }
    }

    private void add(String name, Formula f) {
        List<Formula> list = readers.get(name);
        if (list == null) {
            list = new ArrayList<>(1);
            readers.put(name, list);
            addDirs(name);
        } else if (list.getLast() == f) {
            // By identity, and only the last: a shared header has 10,000 readers, and equals on a formula compares its lists.
            return;
        }
        list.add(f);
    }

    private void addDirs(String name) {
        for (int slash = name.lastIndexOf('/'); slash > 0; slash = name.lastIndexOf('/', slash - 1)) {
            if (!dirs.add(name.substring(0, slash))) {
                return;
            }
        }
    }

    boolean isPrimary(String name) {
        return primaries.contains(name);
    }

    /** Whether a name is a directory with names of the plan under it. */
    boolean isDirectoryOfThePlan(String name) {
        return dirs.contains(name);
    }

    /** The formulas to evaluate again: those pending, and every reader of a changed name. */
    Set<Formula> toCheck(Collection<String> changed) {
        Set<Formula> out = Collections.newSetFromMap(new IdentityHashMap<>());
        out.addAll(pending);
        for (String name : changed) {
            List<Formula> direct = readers.get(name);
            if (direct != null) {
                out.addAll(direct);
            }
        }
        return out;
    }
}
