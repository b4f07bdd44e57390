package dev.fabric.spawner.role.agent;

import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs tasks as processes, each in its own sandbox directory {@code <root>/<task id>/}: the command
 * without a shell, in the working directory the description names inside the sandbox, with the
 * agent's environment less its own {@code FABRIC_*} variables, plus the task's, plus
 * {@value #TASK_ID_VARIABLE} and {@value #SANDBOX_VARIABLE}. Standard input is empty; standard output
 * and error go to {@code <id>.out} and {@code <id>.err} in the sandbox (no reader thread per task,
 * and the whole output stays there), and the result carries their first {@code outputLimit} bytes.
 * A process past its time limit is killed with every process it started ({@link ProcessTree}).
 */
final class TaskRunner {

    static final String TASK_ID_VARIABLE = "FABRIC_TASK_ID";
    static final String SANDBOX_VARIABLE = "FABRIC_TASK_SANDBOX";

    /** The program that starts a process in a new session, where there is one: tasks run in their own process group. */
    static final Path SETSID = Stream.of("/usr/bin/setsid", "/bin/setsid").map(Path::of).filter(Files::isExecutable).findFirst()
            .orElse(null);

    private final Path root;
    private final int outputLimit;

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
        this.root = root;
        this.outputLimit = outputLimit;
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
            if (!workingDirectory.toRealPath().startsWith(sandbox.toRealPath())) {
                return new Run(task, out, err, "the working directory " + task.workingDirectory()
                        + " leads out of the task's sandbox through a symbolic link");
            }
            Map<String, String> environment = new HashMap<>(System.getenv());
            environment.keySet().removeIf(name -> name.startsWith("FABRIC_"));
            environment.putAll(task.environment());
            environment.put(TASK_ID_VARIABLE, task.id());
            environment.put(SANDBOX_VARIABLE, sandbox.toString());
            List<String> command = task.command();
            if (SETSID != null) {
                // In a session (and process group) of its own, so a cancel or the time limit kills what it
                // double-forked too; setsid execs the program in the same process. A program that is not
                // there fails to start here, as it would without setsid, instead of exiting 127.
                Optional<String> missing = missingProgram(command.getFirst(), workingDirectory, environment.get("PATH"));
                if (missing.isPresent()) {
                    return new Run(task, out, err, "the command " + command.getFirst() + " could not be started in " + sandbox + ": "
                            + missing.get());
                }
                command = new ArrayList<>(command);
                command.addFirst(SETSID.toString());
            }
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(workingDirectory.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().clear();
            builder.environment().putAll(environment);
            return new Run(task, out, err, builder.start());
        } catch (IOException | RuntimeException e) {
            return new Run(task, out, err, "the command " + task.command().getFirst() + " could not be started in "
                    + sandbox + ": " + e.getMessage());
        }
    }

    /**
     * Why {@code program} cannot be run (no such file, not executable), as the exec of the process
     * would find it: a name with a slash relative to the working directory, a bare name on {@code PATH}.
     */
    static Optional<String> missingProgram(String program, Path workingDirectory, String path) {
        if (program.contains("/")) {
            Path file = workingDirectory.resolve(program);
            if (!Files.exists(file)) {
                return Optional.of(program + ": No such file or directory");
            }
            return Files.isRegularFile(file) && Files.isExecutable(file) ? Optional.empty()
                    : Optional.of(program + ": Permission denied (not an executable file)");
        }
        for (String directory : (path == null ? "" : path).split(":")) {
            Path file = (directory.isEmpty() ? workingDirectory : workingDirectory.resolve(directory)).resolve(program);
            if (Files.isRegularFile(file) && Files.isExecutable(file)) {
                return Optional.empty();
            }
        }
        return Optional.of(program + ": No such file or directory (not on PATH " + path + ")");
    }

    /** One task's process, from its start to its outcome. */
    final class Run {

        private final TaskDescription task;
        private final Path out;
        private final Path err;
        private final Process process;
        private final String startFailure;
        private final long startedNanos = System.nanoTime();
        private volatile boolean canceled;

        private Run(TaskDescription task, Path out, Path err, Process process) {
            this.task = task;
            this.out = out;
            this.err = err;
            this.process = process;
            this.startFailure = null;
        }

        private Run(TaskDescription task, Path out, Path err, String startFailure) {
            this.task = task;
            this.out = out;
            this.err = err;
            this.process = null;
            this.startFailure = startFailure;
        }

        TaskDescription task() {
            return task;
        }

        /** The process, when it started. */
        Optional<ProcessHandle> process() {
            return Optional.ofNullable(process).map(Process::toHandle);
        }

        /** Kills the process and its tree; its outcome is CANCELED. */
        void cancel() {
            canceled = true;
            if (process != null) {
                ProcessTree.kill(process.toHandle());
            }
        }

        /** Waits for the process to end, killing its tree at the time limit, and reads its results. */
        Outcome await() throws InterruptedException {
            if (process == null) {
                return new Outcome(TaskState.FAILED, TaskEvent.REASON_START_FAILED, startFailure, null, null, null, null);
            }
            Optional<Duration> limit = task.limit();
            boolean timedOut = false;
            if (limit.isPresent()) {
                if (!process.waitFor(limit.get().toNanos(), TimeUnit.NANOSECONDS)) {
                    timedOut = !canceled;
                    ProcessTree.kill(process.toHandle());
                }
            }
            int status = process.waitFor();
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
