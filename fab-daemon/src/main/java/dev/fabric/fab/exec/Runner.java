package dev.fabric.fab.exec;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.Stage;
import dev.fabric.fab.plan.State;
import dev.fabric.fab.posix.ProcessTree;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a plan stage by stage, up to {@code jobs} commands of a stage at once, each through
 * {@code /bin/sh -e -c} in its formula's directory (a failing line fails the formula, as in the
 * buildscript). The first failure stops new commands from starting;
 * the running ones finish; the failed command's targets are removed; the build exits 7 (CMDFAIL).
 * Each success is recorded in the state so the next run skips it.
 */
public final class Runner {
    private final Path root;
    private final State state;
    private final int jobs;
    private final Listener listener;
    private final Map<Process, Command> running = new ConcurrentHashMap<>();
    private volatile boolean aborted;
    /** Written before each stage starts, for the file system's time then ({@link State#clock}); under {@code .fab}, which no watcher reports. */
    static final String CLOCK = ".fab/clock";

    /** @param jobs commands at once within a stage; 0 or less means no limit */
    public Runner(Path root, State state, int jobs, Listener listener) {
        this.root = root;
        this.state = state;
        this.jobs = jobs;
        this.listener = listener;
    }

    /** Runs the plan; returns every result, or throws CMDFAIL after the running commands finished. */
    public List<CommandResult> run(BuildPlan plan) {
        List<CommandResult> results = new ArrayList<>();
        int total = plan.commandCount();
        AtomicInteger started = new AtomicInteger();
        AtomicReference<CommandResult> failed = new AtomicReference<>();
        AtomicReference<FabException> discovery = new AtomicReference<>();
        Semaphore slots = new Semaphore(jobs <= 0 ? Integer.MAX_VALUE : jobs);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Stage stage : plan.stages()) {
                List<Future<CommandResult>> futures = new ArrayList<>();
                // Before any command of the stage starts: what they read may change from then on.
                long stageStarted = State.clock(root.resolve(CLOCK));
                int index = 0;
                for (Command command : stage.commands()) {
                    int n = ++index;
                    futures.add(pool.submit(() -> {
                        slots.acquire();
                        try {
                            if (failed.get() != null || discovery.get() != null || aborted) {
                                return null;
                            }
                            listener.started(stage.number(), plan.stages().size(), started.incrementAndGet(), total, command);
                            CommandResult r = execute(command, stage.number(), n, stageStarted);
                            if (aborted) {
                                state.forget(command.formula());
                                removeTargets(command);
                                listener.finished(r);
                                return r;
                            }
                            if (command.discovers()) {
                                if (!r.succeeded()) {
                                    failed.compareAndSet(null, r);
                                }
                            } else if (r.succeeded()) {
                                List<String> sources = new ArrayList<>(command.fileSources());
                                if (command.formula().depfile() != null) {
                                    try {
                                        List<String> found = Depfile.read(root, command.formula().dir(), command.formula().depfile());
                                        listener.discovered(command, found);
                                        sources.addAll(found);
                                    } catch (FabException e) {
                                        state.forget(command.formula());
                                        discovery.compareAndSet(null, e);
                                        listener.finished(r);
                                        return r;
                                    }
                                }
                                state.recordSuccess(command.formula(), sources, r.started());
                            } else {
                                state.forget(command.formula());
                                removeTargets(command);
                                failed.compareAndSet(null, r);
                            }
                            listener.finished(r);
                            return r;
                        } finally {
                            slots.release();
                        }
                    }));
                }
                for (Future<CommandResult> f : futures) {
                    CommandResult r = f.get();
                    if (r != null) {
                        results.add(r);
                    }
                }
                if (failed.get() != null || discovery.get() != null || aborted) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FabException(ExitStatus.CMDFAIL, "interrupted while running the plan");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } finally {
            state.save();
        }
        if (aborted) {
            throw new FabException(ExitStatus.CMDFAIL, "build aborted: the running commands were killed and their targets removed");
        }
        if (failed.get() == null && discovery.get() != null) {
            throw discovery.get();
        }
        CommandResult r = failed.get();
        if (r != null) {
            throw failure(r);
        }
        return results;
    }

    /**
     * The CMDFAIL of a failed command: its status, directory, targets, text, standard output and error. Its output is
     * shown only here (a failed command's is not printed as it finishes), and a test's verdict is often on stdout.
     */
    public static FabException failure(CommandResult r) {
        return new FabException(ExitStatus.CMDFAIL, "command failed with exit status %d (in %s, for %s):\n%s\n%s%s"
                .formatted(r.exitStatus(), r.command().formula().dir(),
                        r.command().discovers() ? r.command().description() : String.join(" ", r.command().formula().targets()),
                        r.command().formula().command(),
                        r.stdoutText().isEmpty() ? "" : "stdout:\n" + r.stdoutText().stripTrailing() + "\n",
                        r.stderrText().isEmpty() ? "(no stderr)" : "stderr:\n" + r.stderrText().stripTrailing()));
    }

    private CommandResult execute(Command command, int stage, int index, long started) throws InterruptedException {
        List<String> products = command.formula().targets().stream().filter(t -> !t.startsWith("@")).toList();
        try {
            for (String p : products) {
                Path parent = root.resolve(p).getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
            }
            Process process;
            synchronized (running) {
                if (aborted) {
                    return new CommandResult(command, stage, index, 130, new byte[0], "fab: aborted before it started".getBytes(), products,
                            started);
                }
                process = new ProcessBuilder("/bin/sh", "-e", "-c", command.formula().command())
                        .directory(command.formula().dir().toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
                running.put(process, command);
            }
            AtomicReference<byte[]> err = new AtomicReference<>(new byte[0]);
            Thread errReader = Thread.ofVirtual().start(() -> err.set(readAll(process.getErrorStream())));
            byte[] out = readAll(process.getInputStream());
            int status = process.waitFor();
            errReader.join();
            running.remove(process);
            return new CommandResult(command, stage, index, status, out, err.get(), products, started);
        } catch (IOException e) {
            return new CommandResult(command, stage, index, 127, new byte[0],
                    ("fab: cannot start /bin/sh: " + e.getMessage()).getBytes(), products, started);
        }
    }

    /**
     * Stops the build now (fab interrupted, or its daemon told to stop): kills every running command
     * with its child processes and removes their targets, so nothing is left half-written. Running
     * {@link #run} calls then end with CMDFAIL; no further command starts.
     */
    public void abort() {
        synchronized (running) {
            aborted = true;
        }
        for (Map.Entry<Process, Command> e : running.entrySet()) {
            Process p = e.getKey();
            ProcessTree.kill(p.toHandle());
            try {
                p.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            removeTargets(e.getValue());
        }
    }

    /**
     * Everything the command wrote on one of its pipes. When an abort kills the command, the pipe is
     * closed under the reader: what was read until then is the command's output, not an error.
     */
    private static byte[] readAll(InputStream in) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (in) {
            in.transferTo(out);
        } catch (IOException killedOrClosed) {
            // Keep what arrived; the exit status (from waitFor) says what happened to the command.
        }
        return out.toByteArray();
    }

    private void removeTargets(Command command) {
        for (String t : command.formula().targets()) {
            if (!t.startsWith("@")) {
                try {
                    Files.deleteIfExists(root.resolve(t));
                } catch (IOException e) {
                    // A directory target that is not empty stays; the state already forgot the formula.
                }
            }
        }
    }
}
