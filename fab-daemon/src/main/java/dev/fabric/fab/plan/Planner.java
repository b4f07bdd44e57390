package dev.fabric.fab.plan;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.graph.Formula;
import dev.fabric.fab.graph.Graph;
import dev.fabric.fab.graph.Node;
import dev.fabric.fab.graph.NodeKind;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Makes a {@link BuildPlan} from a graph, the selected nodes and the state of previous builds.
 * A formula is out of date when a target is missing, it never ran, its command text changed, a
 * source's content changed, or a source will be rebuilt first; its stage is one past the latest
 * stage of the formulas it waits for.
 */
public final class Planner {
    private final Graph graph;
    private final State state;
    private final CyclePolicy cycles;
    private final Consumer<String> warn;
    private final Set<String> brokenEdges = new HashSet<>();
    private final Set<String> cyclesSeen = new LinkedHashSet<>();
    private boolean stopAtNofile;
    private Consumer<String> evaluated = e -> { };
    private boolean evaluating;
    private Set<String> selectedSet = Set.of();
    private Object graphKey;
    private boolean decidedFromChanges;

    public Planner(Graph graph, State state, CyclePolicy cycles, Consumer<String> warn) {
        this.graph = graph;
        this.state = state;
        this.cycles = cycles;
        this.warn = warn;
    }

    /**
     * @param selected nodes to build
     * @param exactly  {@code +x}: only the formulas of the selected nodes, not of their dependencies
     */
    public BuildPlan plan(List<String> selected, boolean exactly) {
        return plan(selected, exactly, false);
    }

    /** Receives one line per formula evaluated: up to date, or why not (the BPEVAL log category). */
    public Planner onEvaluate(Consumer<String> evaluated) {
        this.evaluated = evaluated;
        this.evaluating = true;
        return this;
    }

    /**
     * The graph this plan's is, for the memo of the last plan: {@code base} as loaded (by identity) with
     * what discovery added. Without it, the planner's graph by identity.
     */
    public Planner sameGraphAs(Graph base, Map<String, List<String>> discovered) {
        this.graphKey = List.of(new PlanMemo.Same(base), discovered);
        return this;
    }

    /** Whether the last {@link #plan} was decided from the changes since the state's previous plan, without walking the graph. */
    public boolean decidedFromChanges() {
        return decidedFromChanges;
    }

    /**
     * @param selected     nodes to build
     * @param exactly      {@code +x}: only the formulas of the selected nodes, not of their dependencies
     * @param stopAtNofile {@code +n}: dependencies are followed, but not into a nofile node that was not selected
     */
    public BuildPlan plan(List<String> selected, boolean exactly, boolean stopAtNofile) {
        this.stopAtNofile = stopAtNofile;
        this.selectedSet = new HashSet<>(selected);
        PlanMemo memo = state.memo();
        PlanMemo.Key key = new PlanMemo.Key(graphKey != null ? graphKey : new PlanMemo.Same(graph), List.copyOf(selected), exactly,
                stopAtNofile, cycles);
        // Every plan takes what was reported since the last: a full plan looks at all of it anyway.
        Set<String> changed = state.takeChanged();
        long epoch = state.epoch();
        decidedFromChanges = !evaluating && state.trusted() && memo.holds(key, epoch) && nothingOutOfDate(memo, changed);
        if (decidedFromChanges) {
            return new BuildPlan(List.of());
        }
        memo.start(key, epoch);
        try {
            BuildPlan plan = fullPlan(selected, exactly, memo);
            if (!brokenEdges.isEmpty() || !cyclesSeen.isEmpty()) {
                // Cycles broken: their warnings and edges come from the walk, which the memo skips.
                memo.clear();
            }
            return plan;
        } catch (RuntimeException e) {
            memo.clear();
            throw e;
        }
    }

    /**
     * The memo's answer: every formula the changes (and the names the watcher never vouches for) touch,
     * and every one the last plan found out of date, is up to date now. Then so is every other, whose
     * targets, sources and last success are as the last plan saw them. Nothing is evaluated beyond the
     * first formula out of date (the full plan does it again, in order).
     */
    private boolean nothingOutOfDate(PlanMemo memo, Set<String> changed) {
        Set<String> touched = new HashSet<>(changed);
        touched.addAll(state.unvouched());
        for (String name : touched) {
            if (memo.isDirectoryOfThePlan(name) || memo.isPrimary(name) && !state.exists(name)) {
                return false;
            }
        }
        Set<Formula> check = memo.toCheck(touched);
        Map<Formula, List<String>> sources = new IdentityHashMap<>();
        for (Formula f : check) {
            List<String> fileSources = fileSources(f);
            if (reason(f, fileSources, Set.of()) != null) {
                return false;
            }
            sources.put(f, fileSources);
        }
        // Up to date now, with what their last success read (a depfile may name new sources).
        sources.keySet().forEach(f -> memo.upToDate(f, state.built(f)));
        return true;
    }

    private BuildPlan fullPlan(List<String> selected, boolean exactly, PlanMemo memo) {
        List<String> order = topologicalOrder(selected);
        unsatisfied(order);
        for (String name : order) {
            if (graph.node(name).kind() == NodeKind.PRIMARY) {
                memo.primary(name);
            }
        }
        Set<String> candidates = new HashSet<>(exactly ? selected : order);
        Map<Formula, Command> outOfDate = new LinkedHashMap<>();
        // By identity: a graph holds one instance per formula, and a record's hashCode walks its lists (a no-op
        // of 10,000 files looks each formula up several times).
        Set<Formula> rebuilt = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<String, Integer> level = HashMap.newHashMap(order.size());
        Map<Formula, Integer> formulaLevel = new IdentityHashMap<>();
        for (String name : order) {
            Node node = graph.node(name);
            int max = 0;
            for (String s : sources(node)) {
                max = Math.max(max, level.getOrDefault(s, 0));
            }
            Formula f = node.formula();
            if (f != null && candidates.contains(name)) {
                if (!formulaLevel.containsKey(f)) {
                    int fmax = 0;
                    for (String s : f.sources()) {
                        if (brokenEdges.isEmpty() || !brokenEdges.contains(name + "\0" + s)) {
                            fmax = Math.max(fmax, level.getOrDefault(s, 0));
                        }
                    }
                    List<String> fileSources = fileSources(f);
                    String reason = reason(f, fileSources, rebuilt);
                    evaluated.accept(f.key() + ": " + (reason == null ? "up to date" : reason));
                    memo.reads(f, fileSources, state.built(f), reason != null);
                    if (reason != null) {
                        outOfDate.put(f, new Command(f, reason, fileSources));
                        rebuilt.add(f);
                        formulaLevel.put(f, fmax + 1);
                    } else {
                        formulaLevel.put(f, fmax);
                    }
                }
                max = Math.max(max, formulaLevel.get(f));
            }
            level.put(name, max);
        }
        Map<Integer, List<Command>> byLevel = new TreeMap<>();
        outOfDate.forEach((f, c) -> byLevel.computeIfAbsent(formulaLevel.get(f), k -> new ArrayList<>()).add(c));
        List<Stage> stages = new ArrayList<>();
        for (List<Command> commands : byLevel.values()) {
            stages.add(new Stage(stages.size() + 1, commands));
        }
        return new BuildPlan(stages);
    }

    private List<String> sources(Node node) {
        if (brokenEdges.isEmpty()) {
            return node.sources();
        }
        return node.sources().stream().filter(s -> !brokenEdges.contains(node.name() + "\0" + s)).toList();
    }

    private String reason(Formula f, List<String> fileSources, Set<Formula> rebuilt) {
        for (String t : f.targets()) {
            if (t.startsWith("@")) {
                return "nofile " + t + " runs whenever it is selected";
            }
        }
        for (String t : f.targets()) {
            if (!state.exists(t)) {
                return "target " + t + " is missing";
            }
        }
        for (String s : fileSources) {
            Formula producer = producerThroughNofile(s);
            if (producer != null && rebuilt.contains(producer)) {
                return "source " + s + " will be rebuilt";
            }
        }
        State.Built built = state.built(f);
        if (built == null) {
            return "never built by fab";
        }
        if (!built.formulaHash().equals(state.formulaHash(f))) {
            return "formula changed";
        }
        for (String s : fileSources) {
            if (s.startsWith("@")) {
                continue;
            }
            String now = state.hash(s);
            String then = built.sources().get(s);
            if (then == null) {
                return "source " + s + " is new";
            }
            if (!then.equals(now)) {
                return "source " + s + " changed";
            }
        }
        Set<String> declared = new HashSet<>(fileSources);
        for (Map.Entry<String, String> e : built.sources().entrySet()) {
            if (!declared.contains(e.getKey()) && !e.getValue().equals(state.hash(e.getKey()))) {
                return "discovered source " + e.getKey() + " changed";
            }
        }
        return null;
    }

    private Formula producerThroughNofile(String name) {
        Node n = graph.node(name);
        return n == null ? null : n.formula();
    }

    /** The sources of a formula, with formula-less nofile groups replaced by what they group. */
    private List<String> fileSources(Formula f) {
        Set<String> out = new LinkedHashSet<>();
        Set<String> seen = new HashSet<>();
        for (String s : f.sources()) {
            expand(s, out, seen);
        }
        return new ArrayList<>(out);
    }

    private void expand(String name, Set<String> out, Set<String> seen) {
        if (!seen.add(name)) {
            return;
        }
        Node n = graph.node(name);
        if (n != null && n.kind() == NodeKind.NOFILE && n.formula() == null) {
            for (String s : n.sources()) {
                expand(s, out, seen);
            }
        } else {
            out.add(name);
        }
    }

    /** Every missing primary file in the plan's reach: exit 6 (UNSATISFIED). */
    private void unsatisfied(List<String> order) {
        List<String> absent = new ArrayList<>();
        for (String name : order) {
            Node n = graph.node(name);
            if (n.kind() == NodeKind.PRIMARY && !state.exists(name)) {
                absent.add(name);
            }
        }
        if (absent.isEmpty()) {
            return;
        }
        // Who needs each missing file, for the message only: not walked when nothing is missing (every no-op).
        Map<String, String> neededBy = new HashMap<>();
        for (String name : order) {
            for (String s : graph.node(name).sources()) {
                neededBy.putIfAbsent(s, name);
            }
        }
        List<String> missing = new ArrayList<>();
        for (String name : absent) {
            missing.add(name + (neededBy.containsKey(name) ? " (needed by " + neededBy.get(name) + ")" : ""));
        }
        throw new FabException(ExitStatus.UNSATISFIED, "unsatisfied: no file and no formula for " + String.join(", ", missing)
                + "; create the file or add a rule that produces it");
    }

    /** Post-order of the selected nodes' dependencies, finding cycles and breaking them per policy. */
    private List<String> topologicalOrder(List<String> selected) {
        List<String> order = new ArrayList<>();
        Map<String, Integer> color = HashMap.newHashMap(graph.nodes().size());
        for (String s : selected) {
            visit(s, color, order, new ArrayList<>());
        }
        return order;
    }

    private void visit(String start, Map<String, Integer> color, List<String> order, List<String> path) {
        // Iterative depth-first search: deep graphs must not overflow the stack.
        record Frame(String name, List<String> sources, int[] next) {
        }
        if (color.getOrDefault(start, 0) != 0) {
            return;
        }
        List<Frame> stack = new ArrayList<>();
        color.put(start, 1);
        stack.add(new Frame(start, graph.node(start).sources(), new int[1]));
        path.add(start);
        while (!stack.isEmpty()) {
            Frame top = stack.getLast();
            if (top.next()[0] < top.sources().size()) {
                String s = top.sources().get(top.next()[0]++);
                if (stopAtNofile && s.startsWith("@") && !selectedSet.contains(s)) {
                    brokenEdges.add(top.name() + "\0" + s);
                    continue;
                }
                int c = color.getOrDefault(s, 0);
                if (c == 0) {
                    color.put(s, 1);
                    stack.add(new Frame(s, graph.node(s).sources(), new int[1]));
                    path.add(s);
                } else if (c == 1) {
                    cycle(top.name(), s, path);
                }
            } else {
                color.put(top.name(), 2);
                order.add(top.name());
                stack.removeLast();
                path.removeLast();
            }
        }
    }

    private void cycle(String from, String to, List<String> path) {
        List<String> cycle = new ArrayList<>(path.subList(path.indexOf(to), path.size()));
        // One name per unique cycle, whatever node the search entered it by.
        int min = 0;
        for (int i = 1; i < cycle.size(); i++) {
            if (cycle.get(i).compareTo(cycle.get(min)) < 0) {
                min = i;
            }
        }
        List<String> canonical = new ArrayList<>(cycle.subList(min, cycle.size()));
        canonical.addAll(cycle.subList(0, min));
        canonical.add(canonical.getFirst());
        String text = String.join(" -> ", canonical);
        switch (cycles) {
            case FAIL -> throw new FabException(ExitStatus.CYCLE, "dependency cycle: " + text
                    + "; remove one of these edges, or build anyway with --cycles-warn or --cycles-deal");
            case WARN -> {
                if (cyclesSeen.add(text)) {
                    warn.accept("fab: warning: dependency cycle " + text + " (broken at " + from + " -> " + to + ")");
                }
            }
            case DEAL -> cyclesSeen.add(text);
        }
        brokenEdges.add(from + "\0" + to);
    }
}
