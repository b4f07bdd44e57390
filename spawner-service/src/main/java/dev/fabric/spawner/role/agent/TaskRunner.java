package dev.fabric.spawner.role.agent;

import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import dev.fabric.posix.Child;
import dev.fabric.posix.Environment;
import dev.fabric.posix.PosixException;
import dev.fabric.posix.Spawn;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Runs tasks as processes, each in its own sandbox directory {@code <root>/<task id>/}: the command
 * without a shell, in the working directory the description names inside the sandbox, with the
 * agent's environment less its own {@code FABRIC_*} variables, plus the task's, plus
 * {@value #TASK_ID_VARIABLE} and {@value #SANDBOX_VARIABLE}. Standard input is empty; standard output
 * and error go to {@code <id>.out} and {@code <id>.err} in the sandbox (no reader thread per task,
 * and the whole output stays there), and the result carries their first {@code outputLimit} bytes.
 * Each task leads a session and process group of its own. A process past its time limit is killed
 * with every process it started ({@link ProcessTree}).
 * <p>
 * Processes start through posix_spawn(3) ({@link Spawn}, {@link Launcher#POSIX_SPAWN}): one
 * {@code clone} and the program's {@code execve}, where the JDK's {@code ProcessBuilder} runs its
 * {@code jspawnhelper} and then {@code setsid(1)} before the program (three {@code exec}s); the JDK's
 * way stays for a C library without the calls ({@link Launcher#JDK}).
 */
final class TaskRunner {

    static final String TASK_ID_VARIABLE = "FABRIC_TASK_ID";
    static final String SANDBOX_VARIABLE = "FABRIC_TASK_SANDBOX";

    /** The program that starts a process in a new session, where there is one: tasks run in their own process group. */
    static final Path SETSID = Stream.of("/usr/bin/setsid", "/bin/setsid").map(Path::of).filter(Files::isExecutable).findFirst()
            .orElse(null);

    private static final Path DEV_NULL = Path.of("/dev/null");
    private static final Path SHELL = Path.of("/bin/sh");
    private static final int SIGKILL = 9;
    private static final int ENOEXEC = 8;

    /** How task processes are started. */
    enum Launcher {
        /** posix_spawn(3) through the FFM API, in a new session: where the C library has it (glibc 2.34+). */
        POSIX_SPAWN,
        /** The JDK's {@link ProcessBuilder}, through {@code setsid(1)} where there is one: elsewhere. */
        JDK;

        /** posix_spawn where it can be used, else the JDK's. */
        static Launcher best() {
            return Spawn.available() ? POSIX_SPAWN : JDK;
        }
    }

    private final Path root;
    private final int outputLimit;
    private final Launcher launcher;
    /** The agent's environment less its own {@code FABRIC_*} variables: every task's, before its own. Taken once, as it never changes. */
    private final Map<String, String> baseEnvironment;
    /** The same, encoded once for posix_spawn: a spawn adds the task's few variables to it instead of copying dozens. */
    private final Environment encodedBaseEnvironment;

    /** What came of a run: the final state, why, and the process's results when it ran. */
    record Outcome(TaskState state, String reason, String detail, Integer exitStatus, Duration duration, Output stdout, Output stderr) {

        /** The final event of this outcome. */
        TaskEvent event(TaskDescription task, String pilot, String agent, int attempt, Instant at) {
            return new TaskEvent(task.id(), pilot, state, agent, attempt, at, exitStatus, reason, detail, duration,
                    stdout == null ? null : stdout.text(), stderr == null ? null : stderr.text(),
                    stdout == null ? null : stdout.truncated(), stderr == null ? null : stderr.truncated());
        }
    }

    /** The beginning of an output stream, and whether there was more. */
    record Output(String text, boolean truncated) {}

    TaskRunner(Path root, int outputLimit) {
        this(root, outputLimit, Launcher.best());
    }

    TaskRunner(Path root, int outputLimit, Launcher launcher) {
        this.root = root;
        this.outputLimit = outputLimit;
        this.launcher = launcher;
        Map<String, String> environment = new HashMap<>(System.getenv());
        environment.keySet().removeIf(name -> name.startsWith("FABRIC_"));
        this.baseEnvironment = Map.copyOf(environment);
        this.encodedBaseEnvironment = Environment.of(environment);
    }

    Launcher launcher() {
        return launcher;
    }

    Path root() {
        return root;
    }

    /** The sandbox of a task. */
    Path sandboxOf(String taskId) {
        return root.resolve(taskId);
    }

    /**
     * Starts a valid task; a process that cannot be started (no such program, a working directory
     * that cannot be made) is an outcome too, FAILED {@code start-failed}, returned by {@link Run#await}.
     */
    Run start(TaskDescription task) {
        Path sandbox = sandboxOf(task.id());
        Path out = sandbox.resolve(task.id() + ".out");
        Path err = sandbox.resolve(task.id() + ".err");
        try {
            Path workingDirectory = sandbox.resolve(task.relativeWorkingDirectory());
            Files.createDirectories(workingDirectory);
            // Only a directory below the sandbox can lead out of it (the sandbox itself is the agent's to make).
            if (!workingDirectory.equals(sandbox) && !workingDirectory.toRealPath().startsWith(sandbox.toRealPath())) {
                return new Run(task, out, err, "the working directory " + task.workingDirectory()
                        + " leads out of the task's sandbox through a symbolic link");
            }
            Map<String, String> own = new LinkedHashMap<>(task.environment());
            own.put(TASK_ID_VARIABLE, task.id());
            own.put(SANDBOX_VARIABLE, sandbox.toString());
            List<String> command = task.command();
            return switch (launcher) {
                case POSIX_SPAWN -> spawn(task, command, workingDirectory, encodedBaseEnvironment.with(own), out, err);
                case JDK -> {
                    Map<String, String> environment = new HashMap<>(baseEnvironment);
                    environment.putAll(own);
                    yield startWithTheJdk(task, command, workingDirectory, environment, out, err);
                }
            };
        } catch (IOException | RuntimeException e) {
            return new Run(task, out, err, "the command " + task.command().getFirst() + " could not be started in "
                    + sandbox + ": " + e.getMessage());
        }
    }

    /**
     * posix_spawn(3): one {@code clone} and one {@code execve} of the program itself, in a session of its
     * own ({@code POSIX_SPAWN_SETSID}), no descriptor of the agent's but standard input from
     * {@code /dev/null} and the two output files. The program is looked up here, on the task's
     * {@code PATH}, as {@code setsid(1)} did before: a missing or non-executable one is a clear start failure.
     */
    private Run spawn(TaskDescription task, List<String> command, Path workingDirectory, Environment environment, Path out,
            Path err) {
        Located program = locate(command.getFirst(), workingDirectory, environment.get("PATH"));
        if (program.missing() != null) {
            return new Run(task, out, err, "the command " + command.getFirst() + " could not be started in " + sandboxOf(task.id())
                    + ": " + program.missing());
        }
        try {
            Child child;
            try {
                child = spawn(program.file(), command, workingDirectory, environment, out, err);
            } catch (PosixException e) {
                if (e.errno() != ENOEXEC) {
                    throw e;
                }
                // A script without a #! line: run it with the shell, as execvp (and so setsid(1) and the JDK) do.
                List<String> script = new ArrayList<>(List.of(SHELL.toString(), program.file().toString()));
                script.addAll(command.subList(1, command.size()));
                child = spawn(SHELL, script, workingDirectory, environment, out, err);
            }
            Child started = child;
            return new Run(task, out, err, Optional.of(started.pid()), started.exitStatus(), () -> started.whileUnreaped(() ->
                    started.handle().ifPresentOrElse(ProcessTree::kill, () -> started.signalGroup(SIGKILL))));
        } catch (PosixException e) {
            return new Run(task, out, err, "the command " + command.getFirst() + " could not be started in " + sandboxOf(task.id())
                    + ": " + e.getMessage());
        }
    }

    private static Child spawn(Path program, List<String> arguments, Path workingDirectory, Environment environment, Path out,
            Path err) {
        return Spawn.of(program, arguments).environment(environment).directory(workingDirectory)
                .stdin(DEV_NULL).stdout(out).stderr(err).newSession(true).start();
    }

    /** The JDK's {@link ProcessBuilder}, through {@code setsid(1)} where there is one: where the C library cannot posix_spawn so. */
    private Run startWithTheJdk(TaskDescription task, List<String> command, Path workingDirectory, Map<String, String> environment,
            Path out, Path err) throws IOException {
        if (SETSID != null) {
            // In a session (and process group) of its own, so a cancel or the time limit kills what it
            // double-forked too; setsid execs the program in the same process. A program that is not
            // there fails to start here, as it would without setsid, instead of exiting 127.
            Optional<String> missing = missingProgram(command.getFirst(), workingDirectory, environment.get("PATH"));
            if (missing.isPresent()) {
                return new Run(task, out, err, "the command " + command.getFirst() + " could not be started in " + sandboxOf(task.id())
                        + ": " + missing.get());
            }
            command = new ArrayList<>(command);
            command.addFirst(SETSID.toString());
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workingDirectory.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL.toFile()))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        Process process = builder.start();
        return new Run(task, out, err, Optional.of(process.pid()), process.onExit().thenApply(Process::exitValue),
                () -> ProcessTree.kill(process.toHandle()));
    }

    /** A program as the exec of the process would find it, or why it cannot be run. */
    record Located(Path file, String missing) {}

    /**
     * Why {@code program} cannot be run (no such file, not executable), as the exec of the process
     * would find it: a name with a slash relative to the working directory, a bare name on {@code PATH}.
     */
    static Optional<String> missingProgram(String program, Path workingDirectory, String path) {
        return Optional.ofNullable(locate(program, workingDirectory, path).missing());
    }

    /** Finds {@code program}: a name with a slash relative to the working directory, a bare name on {@code PATH} (relative entries from the working directory). */
    static Located locate(String program, Path workingDirectory, String path) {
        if (program.contains("/")) {
            Path file = workingDirectory.resolve(program);
            if (!Files.exists(file)) {
                return new Located(null, program + ": No such file or directory");
            }
            return Files.isRegularFile(file) && Files.isExecutable(file) ? new Located(file, null)
                    : new Located(null, program + ": Permission denied (not an executable file)");
        }
        for (String directory : (path == null ? "" : path).split(":")) {
            Path file = (directory.isEmpty() ? workingDirectory : workingDirectory.resolve(directory)).resolve(program);
            if (Files.isRegularFile(file) && Files.isExecutable(file)) {
                return new Located(file, null);
            }
        }
        return new Located(null, program + ": No such file or directory (not on PATH " + path + ")");
    }

    /** One task's process, from its start to its outcome. */
    final class Run {

        private final TaskDescription task;
        private final Path out;
        private final Path err;
        private final Optional<Long> pid;
        /** The time taken as the process was started (just after), on this host's clock. */
        private final Instant startedAt = Instant.now();
        private final CompletableFuture<Integer> exitStatus;
        private final Runnable killTree;
        private final String startFailure;
        private final long startedNanos = System.nanoTime();
        private volatile boolean canceled;

        private Run(TaskDescription task, Path out, Path err, Optional<Long> pid, CompletableFuture<Integer> exitStatus,
                Runnable killTree) {
            this.task = task;
            this.out = out;
            this.err = err;
            this.pid = pid;
            this.exitStatus = exitStatus;
            this.killTree = killTree;
            this.startFailure = null;
        }

        private Run(TaskDescription task, Path out, Path err, String startFailure) {
            this.task = task;
            this.out = out;
            this.err = err;
            this.pid = Optional.empty();
            this.exitStatus = null;
            this.killTree = null;
            this.startFailure = startFailure;
        }

        TaskDescription task() {
            return task;
        }

        /** The process's id, when it started. */
        Optional<Long> pid() {
            return pid;
        }

        /** The time taken as its process was started (just after), or failed to start. */
        Instant startedAt() {
            return startedAt;
        }

        /** Kills the process and its tree; its outcome is CANCELED. */
        void cancel() {
            canceled = true;
            if (killTree != null) {
                killTree.run();
            }
        }

        /** Whether the process ended (or never started) within {@code wait}; it is not killed when it did not. */
        boolean endsWithin(Duration wait) throws InterruptedException {
            if (exitStatus == null) {
                return true;
            }
            try {
                exitStatus.get(wait.toNanos(), TimeUnit.NANOSECONDS);
                return true;
            } catch (TimeoutException e) {
                return false;
            } catch (ExecutionException e) {
                return true;
            }
        }

        /** Waits for the process to end, killing its tree at the time limit (counted from its start), and reads its results. */
        Outcome await() throws InterruptedException {
            if (exitStatus == null) {
                return new Outcome(TaskState.FAILED, TaskEvent.REASON_START_FAILED, startFailure, null, null, null, null);
            }
            Optional<Duration> limit = task.limit();
            boolean timedOut = false;
            if (limit.isPresent()) {
                try {
                    // The limit counts from the start, not from this wait (the agent may have waited a little first, endsWithin).
                    long left = limit.get().toNanos() - (System.nanoTime() - startedNanos);
                    exitStatus.get(Math.max(0, left), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    timedOut = !canceled;
                    killTree.run();
                } catch (ExecutionException e) {
                    // Reported below, by the wait without a limit.
                }
            }
            int status;
            try {
                status = exitStatus.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("the process of task " + task.id() + " could not be waited for", e.getCause());
            }
            Duration duration = Duration.ofNanos(System.nanoTime() - startedNanos);
            Output stdout = read(out);
            Output stderr = read(err);
            if (canceled) {
                return new Outcome(TaskState.CANCELED, TaskEvent.REASON_CANCELED_RUNNING, null, status, duration, stdout, stderr);
            }
            if (timedOut) {
                return new Outcome(TaskState.FAILED, TaskEvent.REASON_TIME_LIMIT, "killed after its time limit of " + task.timeLimit(),
                        status, duration, stdout, stderr);
            }
            return status == 0
                    ? new Outcome(TaskState.DONE, null, null, status, duration, stdout, stderr)
                    : new Outcome(TaskState.FAILED, TaskEvent.REASON_EXIT_STATUS, null, status, duration, stdout, stderr);
        }
    }

    private Output read(Path file) {
        try {
            if (Files.size(file) == 0) {
                // Most tasks write nothing to one stream or both: one stat instead of an open and two reads.
                return new Output("", false);
            }
        } catch (IOException e) {
            return new Output("", false);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(outputLimit);
            boolean truncated = in.read() >= 0;
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(java.nio.ByteBuffer.wrap(head)).toString();
            return new Output(text, truncated);
        } catch (IOException e) {
            return new Output("", false);
        }
    }
}
