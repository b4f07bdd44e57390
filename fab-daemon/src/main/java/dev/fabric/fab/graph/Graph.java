package dev.fabric.fab.graph;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.fabfile.Rule;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dependency graph of a project: every node, its edges, and the formulas. Immutable once built,
 * so a long-lived process (fabd) can keep it in memory and plan from it again and again.
 */
public final class Graph {
    private final Path root;
    private final Map<String, Node> nodes;

    private Graph(Path root, Map<String, Node> nodes) {
        this.root = root;
        this.nodes = nodes;
    }

    /** Builds the graph of a model; two formulas for one target are a bad plan (exit 10). */
    public static Graph of(Model model) {
        Map<String, Set<String>> sources = new LinkedHashMap<>();
        Map<String, Formula> producers = new LinkedHashMap<>();
        for (Rule rule : model.rules()) {
            Formula formula = rule.formula() == null ? null
                    : new Formula(rule.targets(), rule.sources(), rule.formula(), rule.dir(), rule.origin(), rule.depfile());
            for (String target : rule.targets()) {
                sources.computeIfAbsent(target, t -> new LinkedHashSet<>()).addAll(rule.sources());
                if (formula != null) {
                    Formula previous = producers.putIfAbsent(target, formula);
                    if (previous != null && !previous.equals(formula)) {
                        throw new FabException(ExitStatus.BADPLAN, "two formulas produce %s: one at %s, one at %s; keep one"
                                .formatted(target, previous.origin(), formula.origin()));
                    }
                }
            }
            for (String source : rule.sources()) {
                sources.computeIfAbsent(source, s -> new LinkedHashSet<>());
            }
        }
        Map<String, Node> nodes = new LinkedHashMap<>();
        Map<Formula, Formula> withAllEdges = new HashMap<>();
        sources.forEach((name, deps) -> {
            Formula f = producers.get(name);
            if (f != null) {
                f = withAllEdges.computeIfAbsent(f, formula -> withEdgesOf(formula, sources));
            }
            NodeKind kind = name.startsWith("@") ? NodeKind.NOFILE : f != null ? NodeKind.SECONDARY : NodeKind.PRIMARY;
            nodes.put(name, new Node(name, kind, new ArrayList<>(deps), f));
        });
        return new Graph(model.root(), nodes);
    }

    /**
     * The formula with every source its targets have in any rule: a rule without a formula adds edges
     * ({@code [ build/a.o ] : [ gen.h ]}) that order the formula after those sources and make it stale
     * when they change, as the formula's own sources do. Its command keeps {@code $^} as written.
     */
    private static Formula withEdgesOf(Formula formula, Map<String, Set<String>> sources) {
        Set<String> all = new LinkedHashSet<>(formula.sources());
        for (String target : formula.targets()) {
            all.addAll(sources.get(target));
        }
        if (all.size() == formula.sources().size()) {
            return formula;
        }
        return new Formula(formula.targets(), new ArrayList<>(all), formula.command(), formula.dir(), formula.origin(), formula.depfile());
    }

    /**
     * This graph with what discovery found: every formula with a discovered source also depends on that
     * source's dependencies (ordered after them, stale when they change), as if a rule without a
     * formula had added the edges. A dependency no rule names becomes a primary node.
     */
    public Graph withDiscovered(Map<String, List<String>> dependencies) {
        if (dependencies.isEmpty()) {
            return this;
        }
        Map<String, Node> out = new LinkedHashMap<>(nodes);
        Map<Formula, Formula> widened = new HashMap<>();
        for (Node n : nodes.values()) {
            Formula f = n.formula();
            if (f == null || widened.containsKey(f)) {
                continue;
            }
            Set<String> all = new LinkedHashSet<>(f.sources());
            for (String s : f.sources()) {
                all.addAll(dependencies.getOrDefault(s, List.of()));
            }
            all.remove("");
            f.targets().forEach(all::remove);
            widened.put(f, all.size() == f.sources().size() ? f
                    : new Formula(f.targets(), new ArrayList<>(all), f.command(), f.dir(), f.origin(), f.depfile()));
        }
        for (Node n : nodes.values()) {
            Formula f = n.formula();
            if (f == null || widened.get(f) == f) {
                continue;
            }
            Formula w = widened.get(f);
            Set<String> sources = new LinkedHashSet<>(n.sources());
            sources.addAll(w.sources());
            out.put(n.name(), new Node(n.name(), n.kind(), new ArrayList<>(sources), w));
            for (String s : w.sources()) {
                out.putIfAbsent(s, new Node(s, s.startsWith("@") ? NodeKind.NOFILE : NodeKind.PRIMARY, List.of(), null));
            }
        }
        return new Graph(root, out);
    }

    public Path root() {
        return root;
    }

    public Node node(String name) {
        return nodes.get(name);
    }

    public Collection<Node> nodes() {
        return nodes.values();
    }

    public boolean contains(String name) {
        return nodes.containsKey(name);
    }

    /** The absolute path of a file node. */
    public Path path(String name) {
        return root.resolve(name);
    }

    /** What to build when no selector is given: {@code @all} if the fabfiles define it, else every node a formula produces. */
    public List<String> defaultSelection() {
        if (nodes.containsKey("@all")) {
            return List.of("@all");
        }
        return nodes.values().stream().filter(n -> n.formula() != null).map(Node::name).toList();
    }
}
