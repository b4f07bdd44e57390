package dev.fabric.fab.daemon;

import dev.fabric.fab.build.Progress;
import dev.fabric.fab.build.Log;
import dev.fabric.fab.ipc.IpcCodec;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.fab.ipc.LogLine;
import dev.fabric.fab.ipc.LogSink;
import dev.fabric.fab.ipc.PidDirectory;
import dev.fabric.fab.posix.ProcessTree;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * faba's side of one stage: every {@code bp/<stage>/<n>/cmd} through {@code /bin/sh -e} (a failing
 * line fails the formula, as in fab's own runner and the buildscript), up to
 * {@code jobs} at once, standard output and error into {@code out} and {@code err}, then the status
 * into {@code exit} (written last: its presence means the command is over). The first failure stops
 * new commands from starting and removes the failed command's products; {@link #abort} kills the
 * running ones (the client went away) and removes theirs, recording {@link #ABORTED}.
 */
final class FabaStage {
    /** The exit record of a command killed because the build was abandoned. */
    static final int ABORTED = -1;
    /** The exit record of a command faba could not run or whose result it could not record (the shell's "cannot execute"). */
    static final int UNRUNNABLE = 126;

    private final PidDirectory own;
    private final int stage;
    private final Path root;
    private final int jobs;
    private final LogSink sink;
    private final Log log;
    private final AtomicInteger started;
    private final Credentials credentials;
    private final IpcRecord.Environment environment;
    private final Map<Process, Path> running = new ConcurrentHashMap<>();
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile boolean aborted;

    FabaStage(PidDirectory own, int stage, Path root, int jobs, LogSink sink, Log log, AtomicInteger started, Credentials credentials,
            IpcRecord.Environment environment) {
        this.own = own;
        this.stage = stage;
        this.root = root;
        this.jobs = jobs;
        this.sink = sink;
        this.log = log;
        this.started = started;
        this.credentials = credentials;
        this.environment = environment;
    }

    /** Runs the stage; true when every command exited 0. */
    boolean run(int stages, int total) throws InterruptedException {
        List<Path> commands = new ArrayList<>();
        for (int n = 1; Files.isDirectory(own.command(stage, n)); n++) {
            commands.add(own.command(stage, n));
        }
        Semaphore slots = new Semaphore(jobs <= 0 ? Integer.MAX_VALUE : jobs);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Path dir : commands) {
                pool.submit(() -> {
                    slots.acquire();
                    try {
                        if (!failed.get() && !aborted) {
                            execute(dir, stages, total);
                        }
                    } catch (IOException | RuntimeException e) {
                        // Not lost in the executor: the stage fails with the reason, and fabd gets an exit record to read.
                        failed.set(true);
                        sink.line(LogLine.ERR, "faba: " + dir + ": " + e);
                        try {
                            write(dir, UNRUNNABLE);
                        } catch (RuntimeException unwritable) {
                            sink.line(LogLine.ERR, "faba: " + unwritable);
                        }
                    } finally {
                        slots.release();
                    }
                    return null;
                });
            }
        }
        return !failed.get() && !aborted;
    }

    private void execute(Path dir, int stages, int total) throws IOException, InterruptedException {
        List<String> products = List.of(new String(Files.readAllBytes(dir.resolve("prod")), StandardCharsets.UTF_8).split("\0"));
        List<String> files = products.stream().filter(p -> !p.isEmpty() && !p.startsWith("@")).toList();
        boolean discovery = files.isEmpty() && products.stream().allMatch(String::isEmpty);
        String description = discovery ? "discovery"
                : products.getFirst() + (products.size() > 1 ? " (+" + (products.size() - 1) + ")" : "");
        for (String p : files) {
            Path parent = root.resolve(p).getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        }
        if (log.enabled(Log.Category.INFO)) {
            sink.line(LogLine.PROGRESS, Progress.line(stage, stages, started.incrementAndGet(), total, description));
        }
        if (log.enabled(Log.Category.BPCMD)) {
            sink.line(LogLine.OUT, Files.readString(dir.resolve("cmd")).stripTrailing());
        }
        if (environment == null) {
            throw new IOException("no environment of this invocation in the client's fab/env: run fab again");
        }
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process process;
        // A command never starts while faba's effective uid is fabsys (see Credentials.ringAsFabsys).
        credentials.flipLock.readLock().lock();
        try {
            synchronized (running) {
                if (aborted) {
                    return;
                }
                // The client's umask, set by the shell that then becomes the formula's: Java cannot set a child's umask.
                ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", "umask \"$1\" && exec /bin/sh -e \"$2\"", "sh",
                        String.format("%04o", environment.umask()), dir.resolve("cmd").toString());
                clientEnvironment(builder.environment());
                process = builder.directory(root.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                running.put(process, dir);
            }
        } finally {
            credentials.flipLock.readLock().unlock();
        }
        int status = process.waitFor();
        running.remove(process);
        if (aborted) {
            removeProducts(files);
            write(dir, ABORTED);
            return;
        }
        if (log.enabled(Log.Category.BPEXEC)) {
            sink.line(LogLine.OUT, "exit " + status + ": " + description);
        }
        if (status == 0) {
            // A discovery's stdout is data fabd reads (+d shows it), not output; a failed command's is in its CMDFAIL message.
            if (!discovery) {
                show(out, LogLine.OUT);
            }
            show(err, LogLine.ERR);
        } else {
            failed.set(true);
            removeProducts(files);
        }
        write(dir, status);
    }

    /** The client's environment, not faba's: a formula runs as under make, with what the fab that asked for it had. */
    private void clientEnvironment(Map<String, String> env) {
        env.clear();
        for (String variable : environment.variables()) {
            int eq = variable.indexOf('=');
            if (eq > 0) {
                env.put(variable.substring(0, eq), variable.substring(eq + 1));
            }
        }
        // The daemons' own (fabw tells its child its parent); a formula that runs fab must not inherit it.
        env.remove("FAB_PARENT_PID");
    }

    private void show(Path file, char channel) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (!text.isEmpty()) {
            sink.line(channel, text);
        }
    }

    private void write(Path dir, int status) {
        IpcFiles.replace(dir.resolve("exit"), IpcCodec.encode(new IpcRecord.CommandExit(status)), credentials.innerFileMode());
    }

    private void removeProducts(List<String> files) {
        for (String f : files) {
            try {
                Files.deleteIfExists(root.resolve(f));
            } catch (IOException e) {
                // A directory target that is not empty stays; fabd forgets the formula anyway.
            }
        }
    }

    /** The client went away: kill every running command with what it started, and record the abort. */
    void abort() {
        synchronized (running) {
            aborted = true;
        }
        for (Map.Entry<Process, Path> e : running.entrySet()) {
            ProcessTree.kill(e.getKey().toHandle());
        }
    }
}
