package dev.fabric.fab.graph;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns command-line selectors into nodes: a path relative to the current directory (or, with
 * {@code +F}, to the initial fabfile's directory), an absolute path, {@code @name}, a list
 * {@code [ a b ]}, {@code $!} for every node. A directory selects every node under it. A selector
 * that matches nothing exits 12 (NOSELECT).
 */
public final class Selector {
    private Selector() {
    }

    public static List<String> select(Graph graph, List<String> selectors, Path base) {
        Set<String> out = new LinkedHashSet<>();
        for (String raw : selectors) {
            for (String s : raw.split("\\s+")) {
                String sel = s;
                if (sel.equals("[") || sel.equals("]") || sel.isEmpty()) {
                    continue;
                }
                if (sel.startsWith("[")) {
                    sel = sel.substring(1);
                }
                if (sel.endsWith("]")) {
                    sel = sel.substring(0, sel.length() - 1);
                }
                out.addAll(one(graph, sel, base));
            }
        }
        return new ArrayList<>(out);
    }

    private static List<String> one(Graph graph, String sel, Path base) {
        if (sel.equals("$!")) {
            return graph.nodes().stream().map(Node::name).toList();
        }
        if (sel.startsWith("@")) {
            if (graph.contains(sel)) {
                return List.of(sel);
            }
            throw noSelect(sel, "no nofile node of that name");
        }
        Path p = base.resolve(sel).toAbsolutePath().normalize();
        String name = p.startsWith(graph.root()) ? graph.root().relativize(p).toString() : p.toString();
        if (graph.contains(name)) {
            return List.of(name);
        }
        String prefix = name.isEmpty() ? "" : name + "/";
        List<String> under = graph.nodes().stream().map(Node::name)
                .filter(n -> !n.startsWith("@") && n.startsWith(prefix)).toList();
        if (!under.isEmpty()) {
            return under;
        }
        throw noSelect(sel, "no node is that path (" + name + ") or under it");
    }

    private static FabException noSelect(String sel, String why) {
        return new FabException(ExitStatus.NOSELECT, "selector `" + sel + "` matches nothing: " + why + "; `fab +q '$!'` lists every node");
    }
}
