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
                "Log categories: +NAME / -NAME with NAME one of ERROR WARN INFO BPINFO BPEXEC BPCMD SELECT INVOKE", "  ARGS NODE BPEVAL BPDUMP INVALID DSCRES IPC.",
                "Exit: 0 ok, 1 BADARGS, 2 BADTMP, 3 BADIPC, 4 SYNTAX, 5 ILLBYTE, 6 UNSATISFIED, 7 CMDFAIL, 8 DSCPARSE, 9 NOINVOKE,",
                "  10 BADPLAN, 11 CYCLE, 12 NOSELECT, 14 FABDFAIL, 15 FABPERMS, 128 file-system error.",
                "The daemons and their directories: docs/fab.md."})
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

    @Option(names = "-B", description = "restart fabd (the project's daemon) before this command")
    boolean restart;

    @Option(names = "--ipc-dir", paramLabel = "DIR", description = "the per-project IPC directories (default $FAB_IPC_DIR, else /var/run/fab)")
    Path ipcDir;

    @Option(names = "--tmp-dir", paramLabel = "DIR", description = "the per-daemon directories (default $FAB_TMP_DIR, else /var/tmp/fab)")
    Path tmpDir;

    /** The real command: a client of the project's daemons (see {@link Client}). */
    public static void main(String[] argv) {
        System.exit(Client.run(argv, Path.of("").toAbsolutePath(), System.out, System.err, System.getenv()));
    }

    /**
     * Runs fab in this process, without daemons, as if started in {@code cwd}; returns its exit status.
     * The engine is the same one fabd drives; tests use this to check the language and the options quickly.
     */
    public static int run(String[] argv, Path cwd, PrintStream out, PrintStream err) {
        var console = System.console();
        return run(argv, cwd, out, err, console != null && console.isTerminal());
    }

    /** As {@link #run(String[], Path, PrintStream, PrintStream)}, saying whether {@code out} is a terminal. */
    static int run(String[] argv, Path cwd, PrintStream out, PrintStream err, boolean terminal) {
        Request request;
        switch (Request.parse(argv, out, err)) {
            case Request.ExitNow e -> {
                return e.status();
            }
            case Request.Run r -> request = r.request();
        }
        Log log = request.log();
        try (InProcess project = new InProcess(log, out, err, terminal)) {
            Build.execute(request, cwd, out, project);
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

    /** The project in this process: state in {@code .fab/state}, one fab at a time by {@code .fab/lock}, the runner here. */
    private static final class InProcess implements Build.Project, AutoCloseable {
        private final Log log;
        private final PrintStream out;
        private final PrintStream err;
        private final boolean terminal;
        private ProjectLock lock;

        InProcess(Log log, PrintStream out, PrintStream err, boolean terminal) {
            this.log = log;
            this.out = out;
            this.err = err;
            this.terminal = terminal;
        }

        @Override
        public Build.Loaded load(Request request, Path cwd) {
            return Build.loadFresh(request, cwd);
        }

        @Override
        public void close() {
            if (lock != null) {
                lock.close();
            }
        }

        @Override
        public State state(Model model) {
            // The lock before the state: a second fab reads the state the first one left.
            lock = ProjectLock.acquire(model.root(), () -> log.log(Log.Category.INFO,
                    "fab: waiting for another fab building this project to finish"));
            return State.load(model.root());
        }

        @Override
        public void saveState(State state, Model model) {
            state.save();
        }

        @Override
        public void writeBuildscript(Path target, String text) {
            try {
                Files.writeString(target, text, StandardCharsets.UTF_8);
                target.toFile().setExecutable(true);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write buildscript " + target, e);
            }
        }

        @Override
        public void run(BuildPlan plan, State state, Model model, int jobs) {
            Runner runner = new Runner(model.root(), state, jobs, new Progress(log, out, err, terminal));
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
    }

    /** The progress line of one command, as every fab prints it. */
    public static String progressLine(int stage, int stages, int started, int total, String description) {
        return "[stage %d/%d] [%d/%d] %s".formatted(stage, stages, started, total, description);
    }

    /** ninja-like progress: one line rewritten in place on a terminal, plain lines otherwise. */
    private record Progress(Log log, PrintStream out, PrintStream err, boolean terminal) implements Listener {

        @Override
        public void started(int stage, int stages, int started, int total, Command command) {
            String line = progressLine(stage, stages, started, total, command.description());
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
