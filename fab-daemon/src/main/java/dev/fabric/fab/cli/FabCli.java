package dev.fabric.fab.cli;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Listener;
import dev.fabric.fab.exec.Runner;
import dev.fabric.fab.fabfile.Loader;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.fabfile.VariableOverride;
import dev.fabric.fab.graph.Graph;
import dev.fabric.fab.graph.Node;
import dev.fabric.fab.graph.Selector;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Buildscript;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.CyclePolicy;
import dev.fabric.fab.plan.Planner;
import dev.fabric.fab.plan.State;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code fab}: parses the command line, loads the fabfiles, selects nodes, plans and runs the build.
 * The engine it drives (fabfile, graph, plan, exec) is a library; part 2 splits this flow across
 * fabd (graph and plan) and faba (commands).
 */
@CommandLine.Command(name = "fab", mixinStandardHelpOptions = true, version = "fab 0.1.0",
        description = "Builds the selected nodes of the project described by ./fabfile. See docs/fabfile.md.",
        footer = {"", "Selectors: PATH, /ABSOLUTE/PATH, @name, [ a b ], $! (every node). Default: @all, else every target.",
                "Node-sets: +t fabricate with dependencies (default), +x fabricate exactly, +n fabricate without crossing a nofile node,", "  +b invalidate, +q query, +i inspect;",
                "  -t, -x, ... switch one off. +C (default) / +F: relative selectors from the current directory / the fabfile's.",
                "Log categories: +NAME / -NAME with NAME one of ERROR WARN INFO BPINFO BPEXEC BPCMD SELECT INVOKE", "  ARGS NODE BPEVAL BPDUMP INVALID DSCRES.",
                "Exit: 0 ok, 1 BADARGS, 4 SYNTAX, 5 ILLBYTE, 6 UNSATISFIED, 7 CMDFAIL, 8 DSCPARSE, 9 NOINVOKE, 10 BADPLAN,", "  11 CYCLE, 12 NOSELECT, 128 file-system error."})
public final class FabCli {

    @Option(names = "-f", paramLabel = "PATH", description = "the initial fabfile (default ./fabfile)")
    Path fabfile = Path.of("fabfile");

    @Option(names = "-p", description = "make the plan and print it; run nothing")
    boolean planOnly;

    @Option(names = "-j", paramLabel = "N", description = "commands at once within a stage; -1 (default) the CPU count, 0 unlimited")
    int jobs = -1;

    @Option(names = "-k", paramLabel = "PATH", description = "write a POSIX shell buildscript performing the plan instead of running it")
    Path buildscript;

    @Option(names = "-K", paramLabel = "VAR", description = "leave VAR settable when the buildscript runs (repeatable)")
    List<String> keep = new ArrayList<>();

    @Option(names = "-I", paramLabel = "DIR", description = "where +[ path ] invocations are also looked up (repeatable)")
    List<Path> includeDirs = new ArrayList<>();

    @Option(names = "-v", paramLabel = "NAME=VALUE", description = "set a variable at the outermost scope: NAME=VALUE or NAME+=VALUE (repeatable)")
    List<String> variables = new ArrayList<>();

    @CommandLine.ArgGroup(exclusive = true)
    Cycles cycles = new Cycles();

    static final class Cycles {
        @Option(names = "--cycles-warn", description = "warn once per unique dependency cycle, break it and build (default)")
        boolean warn;
        @Option(names = "--cycles-fail", description = "exit 11 (CYCLE) on a dependency cycle")
        boolean fail;
        @Option(names = "--cycles-deal", description = "break dependency cycles silently and build")
        boolean deal;

        CyclePolicy policy() {
            return fail ? CyclePolicy.FAIL : deal ? CyclePolicy.DEAL : CyclePolicy.WARN;
        }
    }

    @Parameters(paramLabel = "ARG", description = "selectors, node-set switches (+t +x +n +b +q +i, -t ...), +C/+F, log categories")
    List<String> args = new ArrayList<>();

    public static void main(String[] argv) {
        System.exit(run(argv, Path.of("").toAbsolutePath(), System.out, System.err));
    }

    /** Runs fab as if started in {@code cwd}; returns its exit status. */
    public static int run(String[] argv, Path cwd, PrintStream out, PrintStream err) {
        var console = System.console();
        return run(argv, cwd, out, err, console != null && console.isTerminal());
    }

    /** As {@link #run(String[], Path, PrintStream, PrintStream)}, saying whether {@code out} is a terminal. */
    static int run(String[] argv, Path cwd, PrintStream out, PrintStream err, boolean terminal) {
        Log log = new Log(out, err);
        // Log categories first: picocli would read -INFO as -I NFO.
        List<String> rest = new ArrayList<>();
        try {
            for (String a : argv) {
                if (!log.apply(a)) {
                    rest.add(a);
                }
            }
        } catch (FabException e) {
            err.println("fab: " + e.getMessage());
            return e.status().code();
        }
        FabCli cli = new FabCli();
        CommandLine cl = new CommandLine(cli);
        cl.setUnmatchedOptionsArePositionalParams(true);
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        try {
            cl.parseArgs(rest.toArray(String[]::new));
            if (cl.isUsageHelpRequested()) {
                cl.usage(out);
                return 0;
            }
            if (cl.isVersionHelpRequested()) {
                cl.printVersionHelp(out);
                return 0;
            }
        } catch (CommandLine.ParameterException e) {
            err.println("fab: " + e.getMessage() + " (fab --help lists the options)");
            return ExitStatus.BADARGS.code();
        }
        try {
            cli.execute(cwd, log, out, err, terminal);
            return 0;
        } catch (FabException e) {
            log.log(Log.Category.ERROR, "fab: " + e.getMessage());
            return e.status().code();
        } catch (UncheckedIOException e) {
            // Above 127: an error not specific to fab (here, of the file system).
            log.log(Log.Category.ERROR, "fab: " + e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause()));
            return 128;
        }
    }

    private void execute(Path cwd, Log log, PrintStream out, PrintStream err, boolean terminal) {
        Set<Character> on = new HashSet<>(Set.of('t'));
        Set<Character> explicit = new HashSet<>();
        boolean fromFabfileDir = false;
        List<String> selectors = new ArrayList<>();
        for (String a : args) {
            if (a.length() == 2 && (a.charAt(0) == '+' || a.charAt(0) == '-') && "txnbqiCF".indexOf(a.charAt(1)) >= 0) {
                char c = a.charAt(1);
                if (c == 'C' || c == 'F') {
                    fromFabfileDir = c == 'F' && a.charAt(0) == '+';
                    continue;
                }
                explicit.add(c);
                if (a.charAt(0) == '+') {
                    on.add(c);
                } else {
                    on.remove(c);
                }
                continue;
            }
            if (a.startsWith("-") && !a.equals("-")) {
                throw new FabException(ExitStatus.BADARGS, "unknown option " + a + " (fab --help lists the options)");
            }
            selectors.add(a);
        }
        if (!explicit.contains('t') && (on.contains('x') || on.contains('n') || on.contains('b') || on.contains('q') || on.contains('i'))) {
            on.remove('t');
        }
        if (jobs < -1) {
            throw new FabException(ExitStatus.BADARGS, "-j " + jobs + ": expected a count, -1 (CPU count) or 0 (unlimited)");
        }
        List<VariableOverride> overrides = variables.stream().map(VariableOverride::parse).toList();
        log.log(Log.Category.ARGS, "args: fabfile=" + fabfile + " jobs=" + jobs + " node-sets=" + new java.util.TreeSet<>(on)
                + " selectors=" + selectors + " variables=" + overrides + (fromFabfileDir ? " +F" : " +C"));

        Loader loader = new Loader(overrides, includeDirs.stream().map(cwd::resolve).toList(), new LinkedHashSet<>(keep));
        Model model = loader.load(cwd.resolve(fabfile));
        model.fabfiles().forEach(f -> log.log(Log.Category.INVOKE, "fabfile " + f));
        Graph graph = Graph.of(model);
        List<String> selected = selectors.isEmpty() ? graph.defaultSelection()
                : Selector.select(graph, selectors, fromFabfileDir ? model.root() : cwd);
        selected.forEach(s -> log.log(Log.Category.SELECT, "selected " + s));
        ProjectLock lock = ProjectLock.acquire(model.root(), () -> log.log(Log.Category.INFO,
                "fab: waiting for another fab building this project to finish"));
        try {
            build(model, graph, selected, on, cwd, log, out, err, terminal);
        } finally {
            lock.close();
        }
    }

    private void build(Model model, Graph graph, List<String> selected, Set<Character> on, Path cwd, Log log,
                       PrintStream out, PrintStream err, boolean terminal) {
        if (log.enabled(Log.Category.NODE)) {
            for (var kind : dev.fabric.fab.graph.NodeKind.values()) {
                log.log(Log.Category.NODE, "nodes " + kind.name().toLowerCase() + ": "
                        + graph.nodes().stream().filter(x -> x.kind() == kind).count());
            }
        }
        State state = State.load(model.root());

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
            state.save();
        }
        boolean exactly = on.contains('x');
        if (!on.contains('t') && !exactly && !on.contains('n')) {
            return;
        }
        Planner planner = new Planner(graph, state, cycles.policy(), m -> log.log(Log.Category.WARN, m))
                .onEvaluate(m -> log.log(Log.Category.BPEVAL, m));
        BuildPlan plan = planner.plan(selected, exactly && !on.contains('t') && !on.contains('n'), on.contains('n'));
        if (planOnly) {
            out.print(plan.describe());
            return;
        }
        if (buildscript != null) {
            Path target = cwd.resolve(buildscript);
            try {
                Files.writeString(target, Buildscript.write(plan, model.root(), model.kept()), StandardCharsets.UTF_8);
                target.toFile().setExecutable(true);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write buildscript " + target, e);
            }
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
        int n = jobs == -1 ? Runtime.getRuntime().availableProcessors() : jobs;
        Runner runner = new Runner(model.root(), state, n, new Progress(log, out, err, terminal));
        // Interrupted (Ctrl-C, SIGTERM): kill the running commands and remove their targets.
        Thread onExit = new Thread(runner::abort, "fab-abort");
        Runtime.getRuntime().addShutdownHook(onExit);
        try {
            runner.run(plan);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or has run: nothing to remove.
            }
        }
        if (log.enabled(Log.Category.INFO) && terminal) {
            out.println();
        }
    }

    /** ninja-like progress: one line rewritten in place on a terminal, plain lines otherwise. */
    private record Progress(Log log, PrintStream out, PrintStream err, boolean terminal) implements Listener {

        @Override
        public void started(int stage, int stages, int started, int total, Command command) {
            String line = "[stage %d/%d] [%d/%d] %s".formatted(stage, stages, started, total, command.description());
            if (log.enabled(Log.Category.INFO)) {
                synchronized (out) {
                    if (terminal) {
                        out.print("\r\033[K" + line);
                        out.flush();
                    } else {
                        out.println(line);
                    }
                }
            }
            log.log(Log.Category.BPCMD, command.formula().command());
        }

        @Override
        public void discovered(Command command, List<String> dependencies) {
            log.log(Log.Category.DSCRES, command.description() + " discovered " + String.join(" ", dependencies));
        }

        @Override
        public void finished(CommandResult r) {
            log.log(Log.Category.BPEXEC, "exit " + r.exitStatus() + ": " + r.command().description());
            if (r.succeeded()) {
                synchronized (out) {
                    if (r.stdout().length > 0) {
                        if (terminal) {
                            out.println();
                        }
                        out.write(r.stdout(), 0, r.stdout().length);
                    }
                }
                if (r.stderr().length > 0) {
                    synchronized (err) {
                        err.write(r.stderr(), 0, r.stderr().length);
                    }
                }
            }
        }
    }
}
