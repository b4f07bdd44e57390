package dev.fabric.fab.cli;

import dev.fabric.fab.FabException;
import dev.fabric.fab.build.Build;
import dev.fabric.fab.build.Log;
import dev.fabric.fab.build.Progress;
import dev.fabric.fab.build.Request;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Listener;
import dev.fabric.fab.exec.Runner;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.State;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code fab}: {@link #main} is the real command, a client of the project's daemons ({@link Client});
 * {@link #run} runs the same build in this process, without daemons (the tests' quick path). The
 * command line ({@code build/Options}, {@code build/Request}) and the build itself ({@code build/Build})
 * are shared with fabd.
 */
public final class FabCli {

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
        public List<CommandResult> discover(BuildPlan plan, State state, Model model, int jobs) {
            return new Runner(model.root(), state, jobs, new Listener() {
                @Override
                public void started(int stage, int stages, int started, int total, Command command) {
                }

                @Override
                public void finished(CommandResult result) {
                }
            }).run(plan);
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
}
