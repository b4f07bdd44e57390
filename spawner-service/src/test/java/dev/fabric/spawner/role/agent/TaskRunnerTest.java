package dev.fabric.spawner.role.agent;

import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskEvent;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

/** The agent's runner with real processes: sandbox, environment, working directory, exit status, limits. */
class TaskRunnerTest {

    @TempDir
    Path sandboxes;

    private TaskRunner runner(int outputLimit) {
        return new TaskRunner(sandboxes, outputLimit);
    }

    private static TaskDescription task(String id, String script, Map<String, String> environment, String workingDirectory, String limit) {
        return new TaskDescription(id, "pilot-1", List.of("sh", "-c", script), environment, workingDirectory, limit, null);
    }

    @Test
    void aZeroExitIsDoneWithItsOutput() throws Exception {
        TaskRunner.Outcome outcome = runner(1024).start(task("t-ok", "echo out; echo err >&2", null, null, null)).await();

        assertThat(outcome.state()).isEqualTo(TaskState.DONE);
        assertThat(outcome.exitStatus()).isZero();
        assertThat(outcome.stdout()).isEqualTo(new TaskRunner.Output("out\n", false));
        assertThat(outcome.stderr()).isEqualTo(new TaskRunner.Output("err\n", false));
        assertThat(outcome.duration()).isPositive();
        assertThat(sandboxes.resolve("t-ok/t-ok.out")).hasContent("out");
    }

    @Test
    void aNonZeroExitIsFailedWithItsStatus() throws Exception {
        TaskRunner.Outcome outcome = runner(1024).start(task("t-bad", "echo nope >&2; exit 3", null, null, null)).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_EXIT_STATUS);
        assertThat(outcome.exitStatus()).isEqualTo(3);
        assertThat(outcome.stderr().text()).isEqualTo("nope\n");
    }

    @Test
    void theTaskSeesItsEnvironmentAndNotTheAgentsFabricVariables() throws Exception {
        TaskRunner.Outcome outcome = runner(4096).start(task("t-env", "echo \"$GREETING|$FABRIC_TASK_ID|$FABRIC_TASK_SANDBOX\"; env",
                Map.of("GREETING", "hello world"), null, null)).await();

        String[] lines = outcome.stdout().text().split("\n");
        assertThat(lines[0]).isEqualTo("hello world|t-env|" + sandboxes.resolve("t-env"));
        assertThat(lines).filteredOn(line -> line.startsWith("FABRIC_") && !line.startsWith("FABRIC_TASK_")).isEmpty();
    }

    @Test
    void theCommandStartsInItsWorkingDirectoryInsideTheSandbox() throws Exception {
        TaskRunner.Outcome outcome = runner(1024).start(task("t-dir", "pwd; touch made-here", null, "work/run1", null)).await();

        Path expected = sandboxes.resolve("t-dir/work/run1");
        assertThat(outcome.stdout().text().strip()).isEqualTo(expected.toRealPath().toString());
        assertThat(expected.resolve("made-here")).exists();
    }

    @Test
    void aWorkingDirectoryThatIsASymbolicLinkOutOfTheSandboxIsRefused() throws Exception {
        Files.createDirectories(sandboxes.resolve("t-link"));
        Files.createSymbolicLink(sandboxes.resolve("t-link/out"), Path.of("/tmp"));

        TaskRunner.Outcome outcome = runner(1024).start(task("t-link", "pwd", null, "out", null)).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_START_FAILED);
        assertThat(outcome.detail()).contains("symbolic link");
    }

    @Test
    void outputPastTheLimitIsTruncatedAndSaysSo() throws Exception {
        TaskRunner.Outcome outcome = runner(100).start(task("t-big", "head -c 5000 /dev/zero | tr '\\0' x; echo short >&2", null, null, null))
                .await();

        assertThat(outcome.stdout().text()).hasSize(100).matches("x+");
        assertThat(outcome.stdout().truncated()).isTrue();
        assertThat(outcome.stderr()).isEqualTo(new TaskRunner.Output("short\n", false));
        assertThat(sandboxes.resolve("t-big/t-big.out")).hasSize(5000);
    }

    @Test
    void aProgramThatDoesNotExistFailsToStart() throws Exception {
        TaskDescription missing = new TaskDescription("t-missing", null, List.of("/no/such/program"), null, null, null, null);

        TaskRunner.Outcome outcome = runner(1024).start(missing).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_START_FAILED);
        assertThat(outcome.detail()).contains("/no/such/program");
    }

    @Test
    void theTimeLimitKillsTheWholeProcessTree() throws Exception {
        // Two background sleepers and a child shell with its own sleeper: all must go, not only the top shell.
        String script = "sleep 300 & echo $! > pids; sh -c 'sleep 300 & echo $! >> pids; wait' & echo $! >> pids; wait";

        TaskRunner.Outcome outcome = runner(1024).start(task("t-slow", script, null, null, "1s")).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_TIME_LIMIT);
        assertThat(outcome.exitStatus()).isEqualTo(128 + 9);
        List<Long> pids = Files.readAllLines(sandboxes.resolve("t-slow/pids")).stream().map(Long::parseLong).toList();
        assertThat(pids).hasSize(3);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("pid %d", pid)
                        .isNotEqualTo(java.util.Optional.of(true))));
    }

    @Test
    void theTimeLimitKillsAProcessThatDoubleForkedOutOfTheTree() throws Exception {
        assumeTrue(TaskRunner.SETSID != null, "no setsid here: tasks run in the agent's process group");
        // The subshell starts a sleeper and exits: init adopts the sleeper, out of the task's tree but still in its group.
        String script = "(sleep 300 & echo $! > escaped) ; while [ ! -s escaped ]; do sleep 0.1; done; sleep 300";

        TaskRunner.Outcome outcome = runner(1024).start(task("t-escape", script, null, null, "2s")).await();

        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_TIME_LIMIT);
        long escaped = Long.parseLong(Files.readString(sandboxes.resolve("t-escape/escaped")).strip());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ProcessHandle.of(escaped).map(ProcessHandle::isAlive))
                .as("the double-forked sleeper %d", escaped).isNotEqualTo(java.util.Optional.of(true)));
    }

    @Test
    void aTaskRunsInAProcessGroupOfItsOwnUnderItsOwnPid() throws Exception {
        assumeTrue(TaskRunner.SETSID != null, "no setsid here: tasks run in the agent's process group");
        TaskRunner.Run run = runner(1024).start(task("t-group", "exec sleep 300", null, null, "5m"));
        long pid = run.pid().orElseThrow();

        // setsid(1) makes its own group between its exec and the task's: wait for it, not for a given time.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> ProcessTree.leadsItsGroup(pid));
        assertThat(ProcessTree.leadsItsGroup(ProcessHandle.current().pid())).as("the agent itself").isFalse();
        run.cancel();
        assertThat(run.await().state()).isEqualTo(TaskState.CANCELED);
    }

    @Test
    void aRestartFindsATasksProcessByItsPidAndTheTimeTakenAtItsStart() throws Exception {
        TaskRunner.Run run = runner(1024).start(task("t-find", "exec sleep 300", null, null, "5m"));
        long pid = run.pid().orElseThrow();

        assertThat(ProcessTree.find(pid, run.startedAt())).as("the time the agent took as it started it").isPresent();
        assertThat(ProcessTree.find(pid, run.startedAt().minus(java.time.Duration.ofMinutes(1))))
                .as("a process of that pid started a minute later is another one").isEmpty();
        run.cancel();
        assertThat(run.await().state()).isEqualTo(TaskState.CANCELED);
        assertThat(ProcessTree.find(pid, run.startedAt())).as("gone").isEmpty();
    }

    @Test
    void aProgramOnTheTasksPathIsFoundAndOneThatIsNotExecutableFailsToStart() throws Exception {
        Path bin = Files.createDirectories(sandboxes.resolve("bin"));
        Path tool = Files.writeString(bin.resolve("tool"), "#!/bin/sh\necho from tool\n");
        tool.toFile().setExecutable(true);
        Path plain = Files.writeString(bin.resolve("plain"), "not a program\n");

        assertThat(TaskRunner.missingProgram("tool", sandboxes, bin + ":/usr/bin:/bin")).isEmpty();
        assertThat(TaskRunner.missingProgram(tool.toString(), sandboxes, null)).isEmpty();
        assertThat(TaskRunner.missingProgram("nope", sandboxes, bin.toString())).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("nope: No such file or directory");
        assertThat(TaskRunner.missingProgram(plain.toString(), sandboxes, null)).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("not an executable file");
        TaskRunner.Outcome outcome = runner(1024).start(new TaskDescription("t-plain", "pilot-1", List.of(plain.toString()), null, null,
                null, null)).await();
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_START_FAILED);
    }

    @Test
    void aCanceledRunIsKilledAndCanceled() throws Exception {
        TaskRunner.Run run = runner(1024).start(task("t-cancel", "echo started; exec sleep 300", null, null, "5m"));
        CompletableFuture<TaskRunner.Outcome> outcome = CompletableFuture.supplyAsync(() -> {
            try {
                return run.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(sandboxes.resolve("t-cancel/t-cancel.out"))
                && Files.size(sandboxes.resolve("t-cancel/t-cancel.out")) > 0);

        run.cancel();

        TaskRunner.Outcome canceled = outcome.get();
        assertThat(canceled.state()).isEqualTo(TaskState.CANCELED);
        assertThat(canceled.reason()).isEqualTo(TaskEvent.REASON_CANCELED_RUNNING);
        assertThat(canceled.stdout().text()).isEqualTo("started\n");
    }

    // ---- the launcher: posix_spawn here, the JDK's where the C library lacks it

    @Test
    void tasksStartThroughPosixSpawnHere() {
        assertThat(runner(1024).launcher()).as("glibc 2.34+ has every call").isEqualTo(TaskRunner.Launcher.POSIX_SPAWN);
    }

    @Test
    void aCommandThatIsNotOnThePathFailsToStartAndSaysWhere() throws Exception {
        TaskRunner.Outcome outcome = runner(1024).start(new TaskDescription("t-nopath", "pilot-1", List.of("no-such-command-here"),
                Map.of("PATH", "/usr/bin:/bin"), null, null, null)).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_START_FAILED);
        assertThat(outcome.detail()).isEqualTo("the command no-such-command-here could not be started in " + sandboxes.resolve("t-nopath")
                + ": no-such-command-here: No such file or directory (not on PATH /usr/bin:/bin)");
    }

    @Test
    void aFileThatIsNotExecutableFailsToStartAndSaysWhy() throws Exception {
        Path plain = Files.writeString(sandboxes.resolve("plain"), "echo not a program\n");

        TaskRunner.Outcome outcome = runner(1024).start(new TaskDescription("t-noexec", "pilot-1", List.of(plain.toString()), null, null,
                null, null)).await();

        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_START_FAILED);
        assertThat(outcome.detail()).endsWith(plain + ": Permission denied (not an executable file)");
        assertThat(outcome.exitStatus()).isNull();
    }

    @Test
    void anExecutableScriptWithoutAShebangRunsUnderTheShellAsExecvpRunsIt() throws Exception {
        Path script = Files.writeString(sandboxes.resolve("script"), "echo \"from a script: $1\"\n");
        script.toFile().setExecutable(true);

        TaskRunner.Outcome outcome = runner(1024).start(new TaskDescription("t-script", "pilot-1", List.of(script.toString(), "arg"),
                null, null, null, null)).await();

        assertThat(outcome.state()).isEqualTo(TaskState.DONE);
        assertThat(outcome.stdout().text()).isEqualTo("from a script: arg\n");
    }

    @Test
    void aWorkingDirectoryThatIsAFileFailsToStartAndNamesIt() throws Exception {
        Files.createDirectories(sandboxes.resolve("t-wdfile"));
        Files.writeString(sandboxes.resolve("t-wdfile/work"), "a file, not a directory");

        TaskRunner.Outcome outcome = runner(1024).start(task("t-wdfile", "pwd", null, "work", null)).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_START_FAILED);
        assertThat(outcome.detail()).startsWith("the command sh could not be started in " + sandboxes.resolve("t-wdfile"))
                .contains(sandboxes.resolve("t-wdfile/work").toString());
    }

    @Test
    void aProcessThatIgnoresSigtermIsStillKilledAtItsTimeLimit() throws Exception {
        String script = "trap '' TERM INT HUP; echo $$ > pid; while :; do sleep 0.2; done";

        TaskRunner.Outcome outcome = runner(1024).start(task("t-stubborn", script, null, null, "1s")).await();

        assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
        assertThat(outcome.reason()).isEqualTo(TaskEvent.REASON_TIME_LIMIT);
        assertThat(outcome.exitStatus()).isEqualTo(128 + 9);
        long pid = Long.parseLong(Files.readString(sandboxes.resolve("t-stubborn/pid")).strip());
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("the shell, reaped").isEmpty();
    }

    @Test
    void aCancelOfARunningTaskKillsWhatItStartedInItsGroup() throws Exception {
        TaskRunner.Run run = runner(1024).start(task("t-cancel-tree", "sleep 300 & echo $! > sleeper; wait", null, null, "5m"));
        Path sleeperFile = sandboxes.resolve("t-cancel-tree/sleeper");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(sleeperFile) && Files.size(sleeperFile) > 0);
        long sleeper = Long.parseLong(Files.readString(sleeperFile).strip());

        run.cancel();

        TaskRunner.Outcome outcome = run.await();
        assertThat(outcome.state()).isEqualTo(TaskState.CANCELED);
        assertThat(outcome.exitStatus()).isEqualTo(128 + 9);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ProcessHandle.of(sleeper).filter(ProcessHandle::isAlive))
                .as("the sleeper %d", sleeper).isEmpty());
        run.cancel(); // again, after the process was reaped: nothing to signal, no error
    }

    @Test
    void theJdksLauncherStillRunsTasksWithTheirOutputAndTimeLimit() throws Exception {
        TaskRunner jdk = new TaskRunner(sandboxes, 1024, TaskRunner.Launcher.JDK);

        TaskRunner.Outcome done = jdk.start(task("t-jdk", "echo out; exit 0", null, null, null)).await();
        TaskRunner.Outcome slow = jdk.start(task("t-jdk-slow", "exec sleep 300", null, null, "1s")).await();

        assertThat(done.state()).isEqualTo(TaskState.DONE);
        assertThat(done.stdout().text()).isEqualTo("out\n");
        assertThat(slow.reason()).isEqualTo(TaskEvent.REASON_TIME_LIMIT);
        assertThat(slow.exitStatus()).isEqualTo(128 + 9);
    }
}
