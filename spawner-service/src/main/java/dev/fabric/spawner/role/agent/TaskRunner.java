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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

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
            ProcessBuilder builder = new ProcessBuilder(task.command())
                    .directory(workingDirectory.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            Map<String, String> environment = builder.environment();
            environment.keySet().removeIf(name -> name.startsWith("FABRIC_"));
            environment.putAll(task.environment());
            environment.put(TASK_ID_VARIABLE, task.id());
            environment.put(SANDBOX_VARIABLE, sandbox.toString());
            return new Run(task, out, err, builder.start());
        } catch (IOException | RuntimeException e) {
            return new Run(task, out, err, "the command " + task.command().getFirst() + " could not be started in "
                    + sandbox + ": " + e.getMessage());
        }
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
