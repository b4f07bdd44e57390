package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.build.Log;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.exec.Depfile;
import dev.fabric.fab.exec.Runner;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.ipc.Doorbell;
import dev.fabric.fab.ipc.IpcCodec;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.fab.ipc.Message;
import dev.fabric.fab.ipc.PidDirectory;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.Command;
import dev.fabric.fab.plan.Stage;
import dev.fabric.fab.plan.State;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * fabd's side of running a plan: for each stage, the commands go into faba's
 * {@code bp/<stage>/<n>/{cmd,prod}}, {@code bp/stages} says which stage is ready, BPSTART rings faba,
 * and fabd waits for BPGOOD or BPBAD (looking at faba's pid meanwhile: a dead faba fails the command
 * rather than hanging it). Then it reads each command's {@code exit}, {@code out} and {@code err},
 * records successes (with the dependencies their depfiles discovered) in the state, and stops at the
 * first failure with the same CMDFAIL the in-process runner reports.
 */
final class RemotePlan {
    private final IpcDirectory ipc;
    private final PidDirectory faba;
    private final int fabaPid;
    private final long invocation;
    private final Doorbell bell;
    private final Daemon daemon;
    private final List<Message> deferred;
    private final Credentials credentials;
    private final Log log;
    /** A file of fabd's own, written before each stage starts for the file system's time then ({@link State#clock}). */
    private final Path clock;

    RemotePlan(IpcDirectory ipc, PidDirectory faba, int fabaPid, long invocation, Doorbell bell, Daemon daemon,
               List<Message> deferred, Credentials credentials, Log log, Path clock) {
        this.ipc = ipc;
        this.faba = faba;
        this.fabaPid = fabaPid;
        this.invocation = invocation;
        this.bell = bell;
        this.daemon = daemon;
        this.deferred = deferred;
        this.credentials = credentials;
        this.log = log;
        this.clock = clock;
    }

    /** Runs the plan through faba; returns every command's result (a discovery's output is in its stdout). */
    List<CommandResult> run(BuildPlan plan, State state, Model model) {
        List<CommandResult> results = new ArrayList<>();
        clearStages();
        String file = credentials.innerFileMode();
        IpcFiles.replace(faba.commands(), IpcCodec.encode(new IpcRecord.Commands(invocation, plan.commandCount())), file);
        for (Stage stage : plan.stages()) {
            List<Command> commands = stage.commands();
            for (int n = 1; n <= commands.size(); n++) {
                Command c = commands.get(n - 1);
                Path dir = faba.command(stage.number(), n);
                try {
                    // Modes with setgid and sticky (Credentials): the developer may add faba's results, replace nothing of fabd's.
                    if (n == 1) {
                        Files.createDirectory(dir.getParent());
                        Libc.chmod(dir.getParent(), credentials.stageDirMode());
                    }
                    Files.createDirectory(dir);
                    Libc.chmod(dir, credentials.commandDirMode());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot create " + dir, e);
                }
                // The script cds first: faba runs every cmd alike, /bin/sh cmd, in no particular directory.
                String script = "cd " + quote(c.formula().dir().toString()) + " || exit 127\n" + c.formula().command() + "\n";
                IpcFiles.replace(dir.resolve("cmd"), script.getBytes(StandardCharsets.UTF_8), credentials.model() ? "rwxr-xr-x" : "rwx------");
                IpcFiles.replace(dir.resolve("prod"), (String.join("\0", c.formula().targets()) + "\0").getBytes(StandardCharsets.UTF_8), file);
            }
            IpcFiles.replace(faba.stages(), IpcCodec.encode(new IpcRecord.Stages(invocation, plan.stages().size(), stage.number())), file);
            daemon.ipc("fabd: wrote " + faba.stage(stage.number()) + " (" + commands.size() + " command(s)) and " + faba.stages());
            // The stage's commands start after this file was written: a source changed since may have changed after its command read it.
            long started = State.clock(clock);
            if (!bell.ring("faba", fabaPid, Message.BPSTART)) {
                throw new FabException(ExitStatus.FABDFAIL, "faba (pid " + fabaPid + ") is gone: it cannot run stage " + stage.number());
            }
            boolean good = await(stage);
            collect(stage, state, model, good, results, started);
        }
        return results;
    }

    /** Waits for BPGOOD or BPBAD of this stage; other messages wait their turn. */
    private boolean await(Stage stage) {
        try {
            while (true) {
                Message m = bell.next(200);
                if (m == null) {
                    if (!Libc.alive(fabaPid)) {
                        throw new FabException(ExitStatus.FABDFAIL, "faba (pid " + fabaPid + ") ended abnormally while running stage "
                                + stage.number() + "; the next fab starts a fresh one");
                    }
                    continue;
                }
                switch (m) {
                    case Message.BpGood g -> {
                        bell.received(m);
                        if (allExited(stage)) {
                            return true;
                        }
                        daemon.ipc("fabd: BPGOOD before every exit file of stage " + stage.number() + " was written: a late ring, ignored");
                    }
                    case Message.BpBad b -> {
                        bell.received(m);
                        return false;
                    }
                    default -> deferred.add(m);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FabException(ExitStatus.CMDFAIL, "interrupted while waiting for faba");
        }
    }

    private boolean allExited(Stage stage) {
        for (int n = 1; n <= stage.commands().size(); n++) {
            if (!Files.exists(faba.command(stage.number(), n).resolve("exit"), LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
        }
        return true;
    }

    private void collect(Stage stage, State state, Model model, boolean good, List<CommandResult> results, long started) {
        CommandResult failed = null;
        FabException discovery = null;
        boolean aborted = false;
        for (int n = 1; n <= stage.commands().size(); n++) {
            Command c = stage.commands().get(n - 1);
            Path dir = faba.command(stage.number(), n);
            // faba's files, read as fabsys: never through a link the developer put in their place, nor another uid's file.
            int owner = credentials.fabaFileOwner();
            byte[] exitBytes = IpcFiles.readOwned(dir.resolve("exit"), owner);
            // The watcher reports these targets too, later; until then they must be looked at again.
            c.formula().targets().forEach(state::dirty);
            if (exitBytes == null) {
                state.forget(c.formula());
                continue;
            }
            int status = IpcCodec.decode(IpcRecord.CommandExit.class, exitBytes, dir.resolve("exit").toString()).status();
            byte[] out = orEmpty(IpcFiles.readOwned(dir.resolve("out"), owner));
            byte[] err = orEmpty(IpcFiles.readOwned(dir.resolve("err"), owner));
            CommandResult r = new CommandResult(c, stage.number(), n, status, out, err,
                    c.formula().targets().stream().filter(t -> !t.startsWith("@")).toList(), started);
            results.add(r);
            if (c.discovers()) {
                if (status != 0 && status != FabaStage.ABORTED && failed == null) {
                    failed = r;
                }
                aborted |= status == FabaStage.ABORTED;
                continue;
            }
            if (status == 0) {
                List<String> sources = new ArrayList<>(c.fileSources());
                if (c.formula().depfile() != null) {
                    try {
                        List<String> found = Depfile.read(model.root(), c.formula().dir(), c.formula().depfile(), owner);
                        log.log(Log.Category.DSCRES, c.description() + " discovered " + String.join(" ", found));
                        sources.addAll(found);
                    } catch (FabException e) {
                        state.forget(c.formula());
                        discovery = discovery == null ? e : discovery;
                        continue;
                    }
                }
                state.recordSuccess(c.formula(), sources, started);
            } else {
                state.forget(c.formula());
                if (status == FabaStage.ABORTED) {
                    aborted = true;
                } else if (failed == null) {
                    failed = r;
                }
            }
        }
        if (failed != null) {
            throw Runner.failure(failed);
        }
        if (aborted || (!good && discovery == null)) {
            throw new FabException(ExitStatus.CMDFAIL, "build aborted: the client went away, so faba killed the running commands and removed their targets");
        }
        if (discovery != null) {
            throw discovery;
        }
    }

    /** The previous command's stage directories: fabd made them, fabd removes them. */
    private void clearStages() {
        try (Stream<Path> entries = Files.list(faba.bp())) {
            for (Path p : entries.toList()) {
                if (p.getFileName().toString().matches("[0-9]+")) {
                    IpcFiles.removeTree(p);
                }
            }
        } catch (IOException e) {
            throw new FabException(ExitStatus.BADIPC, "faba's directory " + faba.bp() + " cannot be read (" + e.getMessage()
                    + "): faba is gone or the directory was removed; run fab again");
        }
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
