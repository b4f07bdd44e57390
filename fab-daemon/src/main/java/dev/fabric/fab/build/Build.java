package dev.fabric.fab.build;

import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.fabfile.Loader;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.graph.Graph;
import dev.fabric.fab.graph.Node;
import dev.fabric.fab.graph.Selector;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Buildscript;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.Planner;
import dev.fabric.fab.plan.State;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;

/**
 * One fab command against a loaded project: select, query, inspect, invalidate, plan, then write a
 * buildscript or run the plan. The same code serves the in-process fab and fabd; what differs is
 * behind {@link Project} (where the model and state come from, how a plan runs, how a user's file is written).
 */
public final class Build {

    /** Where a build gets its project from and how it acts on it. */
    public interface Project {
        /** The model and graph for the request (fabd keeps them between commands). */
        Loaded load(Request request, Path cwd);

        /** The state of previous builds (fabd keeps it in memory). */
        State state(Model model);

        /** Persists the state after {@code +b}. */
        void saveState(State state, Model model);

        /** Writes a buildscript for the user ({@code -k}). */
        void writeBuildscript(Path target, String text);

        /** Runs a non-empty plan; throws CMDFAIL and the like. */
        void run(BuildPlan plan, State state, Model model, int jobs);

        /** Runs discovery commands ({@link Command#discovers}) and returns their results; throws CMDFAIL when one fails. */
        List<CommandResult> discover(BuildPlan plan, State state, Model model, int jobs);
    }

    /** A model with its graph. */
    public record Loaded(Model model, Graph graph) {
    }

    private Build() {
    }

    public static Loaded loadFresh(Request request, Path cwd) {
        Options o = request.options();
        Log log = request.log();
        Loader loader = new Loader(request.overrides(), o.includeDirs.stream().map(cwd::resolve).toList(), new LinkedHashSet<>(o.keep))
                .onNote((note, message) -> log.log(Log.Category.valueOf(note.name()), message));
        Model model = loader.load(cwd.resolve(o.fabfile));
        return new Loaded(model, Graph.of(model));
    }

    public static void execute(Request request, Path cwd, PrintStream out, Project project) {
        Log log = request.log();
        Options o = request.options();
        Set<Character> on = request.on();
        log.log(Log.Category.ARGS, request.describe());
        Loaded loaded = project.load(request, cwd);
        Model model = loaded.model();
        Graph graph = loaded.graph();
        model.fabfiles().forEach(f -> log.log(Log.Category.INVOKE, "fabfile " + f));
        List<String> selected = request.selectors().isEmpty() ? graph.defaultSelection()
                : Selector.select(graph, request.selectors(), request.fromFabfileDir() ? model.root() : cwd);
        selected.forEach(s -> log.log(Log.Category.SELECT, "selected " + s));
        if (log.enabled(Log.Category.NODE)) {
            for (var kind : dev.fabric.fab.graph.NodeKind.values()) {
                log.log(Log.Category.NODE, "nodes " + kind.name().toLowerCase() + ": "
                        + graph.nodes().stream().filter(x -> x.kind() == kind).count());
            }
        }
        State state = project.state(model);
        int jobs = o.jobs == -1 ? Runtime.getRuntime().availableProcessors() : o.jobs;
        // Discovery feeds the plan's order and staleness (-p and -k too: discovery commands only read), and +d.
        boolean planning = on.contains('t') || on.contains('x') || on.contains('n');
        Map<String, List<String>> discovered = planning || on.contains('d')
                ? Discoverer.discover(model, state, project, log, jobs) : Map.of();
        graph = graph.withDiscovered(discovered);
        if (on.contains('d')) {
            Set<String> chosen = new HashSet<>(selected);
            for (String s : selected) {
                chosen.addAll(graph.node(s).sources());
            }
            discovered.forEach((source, deps) -> {
                if (request.selectors().isEmpty() || chosen.contains(source)) {
                    out.println(source + ":" + (deps.isEmpty() ? "" : " " + String.join(" ", deps)));
                }
            });
        }
        if (on.contains('q')) {
            selected.forEach(out::println);
        }
        if (on.contains('i')) {
            for (String s : selected) {
                Node n = graph.node(s);
                out.println(n.name() + "  " + n.kind().name().toLowerCase()
                        + (n.sources().isEmpty() ? "" : "  <- " + String.join(" ", n.sources()))
                        + (n.formula() == null ? "" : "  by " + n.formula().origin()));
            }
        }
        if (on.contains('b')) {
            for (String s : selected) {
                Node n = graph.node(s);
                if (n.formula() != null) {
                    state.forget(n.formula());
                    log.log(Log.Category.INVALID, "invalidated " + n.formula().key());
                }
            }
            project.saveState(state, model);
        }
        boolean exactly = on.contains('x');
        if (!on.contains('t') && !exactly && !on.contains('n')) {
            return;
        }
        Planner planner = new Planner(graph, state, request.cycles(), m -> log.log(Log.Category.WARN, m))
                .sameGraphAs(loaded.graph(), discovered);
        if (log.enabled(Log.Category.BPEVAL)) {
            planner.onEvaluate(m -> log.log(Log.Category.BPEVAL, m));
        }
        BuildPlan plan = planner.plan(selected, exactly && !on.contains('t') && !on.contains('n'), on.contains('n'));
        if (planner.decidedFromChanges()) {
            log.log(Log.Category.BPINFO, "plan: decided from the changes since the last plan (nothing they touch is out of date)");
        }
        if (o.planOnly) {
            out.print(plan.describe());
            return;
        }
        if (o.buildscript != null) {
            Path target = cwd.resolve(o.buildscript);
            project.writeBuildscript(target, Buildscript.write(plan, model.root(), model.kept()));
            log.log(Log.Category.INFO, "fab: wrote " + target + " (" + plan.commandCount() + " commands)");
            return;
        }
        if (plan.stages().isEmpty()) {
            log.log(Log.Category.INFO, "fab: nothing to do, everything is up to date");
            return;
        }
        log.log(Log.Category.BPINFO, "plan: " + plan.stages().size() + " stage(s), " + plan.commandCount() + " command(s)");
        if (log.enabled(Log.Category.BPDUMP)) {
            log.log(Log.Category.BPDUMP, plan.describe().stripTrailing());
        }
        project.run(plan, state, model, jobs);
    }
}
