package dev.fabric.fab.daemon;

import dev.fabric.fab.build.Log;
import dev.fabric.fab.build.Request;
import dev.fabric.fab.ipc.Doorbell;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.ipc.LogSink;
import dev.fabric.fab.ipc.Message;
import dev.fabric.fab.ipc.PidDirectory;
import dev.fabric.fab.plan.State;
import dev.fabric.fab.posix.Libc;
import dev.fabric.fab.watch.TreeWatcher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code faba}: the developer's hands. It runs the stages fabd hands it (BPSTART, answered BPGOOD or
 * BPBAD), writes the files fabd may not (the state, buildscripts), watches the project's files and
 * tells fabd what changed, relays the client's START to fabd (the client cannot signal fabd in the
 * credential model, faba can: its saved uid is fabsys) and the DONE of fabd to the client. When the
 * client goes away in the middle of a build, faba kills the running commands and removes their
 * products, so nothing half-written stays, and answers every later stage of that build BPBAD without
 * running it, so that fabd ends the build at once (see {@link #abandon}).
 */
public final class Faba {
    private final IpcDirectory ipc;
    private final IpcRoots roots;
    private final PidDirectory own;
    private final Path root;
    private final Credentials credentials;
    private final LogSink sink;
    private final Daemon daemon;
    private final Doorbell bell;
    private TreeWatcher watcher;

    /** The client waiting for the relayed invocation, until fabd's DONE of it or the client's death; 0 when none waits. */
    private int client;
    private Request request;
    /** The relayed client's environment and umask, which every command of its invocation runs with; null when fab/env was not of it. */
    private IpcRecord.Environment environment;
    /** The invocation of the last START this faba relayed: the only one whose stages it runs. */
    private long relayed;
    /** The changes file's end when the relayed START was sent: what fabd reads at least, and faba may drop after its DONE. */
    private long synced;
    /**
     * Invocations relayed whose client went away before fabd answered them: their stages are answered
     * BPBAD unrun, and their DONE goes to nobody. Several when clients die one after the other faster than
     * fabd ends their builds; each leaves at its DONE.
     */
    private final Set<Long> abandoned = new java.util.HashSet<>();
    private long invocation;
    private int lastStage;
    private final AtomicInteger started = new AtomicInteger();
    private volatile FabaStage running;
    private Thread runner;

    private Faba(IpcDirectory ipc, IpcRoots roots, PidDirectory own, Path root, Credentials credentials) {
        this.ipc = ipc;
        this.roots = roots;
        this.own = own;
        this.root = root;
        this.credentials = credentials;
        this.sink = new LogSink(ipc.logs());
        this.daemon = new Daemon("faba", sink);
        this.bell = new Doorbell("faba", List.of(Message.START, Message.DONE, Message.BPSTART), daemon::ipc);
    }

    public static void main(String[] argv) {
        Daemon.main("faba", () -> {
            DaemonOptions options = DaemonOptions.parse(argv);
            IpcDirectory ipc = options.project();
            IpcRoots roots = options.roots();
            Credentials credentials = Credentials.forChild(options);
            int pid = Libc.getpid();
            PidDirectory own = PidDirectory.of(roots, pid);
            // Made while faba may still be root, in root's pid/ (which no developer can write); becomeFaba gates it.
            IpcFiles.mkdir(own.dir(), "rwx------");
            IpcFiles.mkdir(own.bp(), "rwx------");
            IpcFiles.mkdir(own.dir().resolve("watch"), "rwx------");
            Daemon.touch(own.stamp(), "rw-------");
            Path fabfile;
            try {
                fabfile = Files.readSymbolicLink(ipc.fabfile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + ipc.fabfile(), e);
            }
            // The handlers are in place before anyone can learn the pid below and ring it.
            Faba faba = new Faba(ipc, roots, own, fabfile.getParent(), credentials);
            // Whom fabd and fab ring, written while faba may still be root into fabd/, which the developer cannot
            // write: unlike the bp link (the developer's), nobody can point fabd at another developer's faba.
            ipc.writeAscii(ipc.faba(), pid + "\n", "rw-r--r--");
            credentials.becomeFaba(own);
            Daemon.tieToParent();
            faba.serve(fabfile);
        });
    }

    private void serve(Path fabfile) throws InterruptedException {
        watcher = new TreeWatcher(root, own.changes(), own.dir().resolve("watch"), new java.util.HashSet<>(List.of("fabfile", fabfile.getFileName().toString())),
                this::ringFabd, daemon::ipc);
        watcher.start();
        Daemon.heartbeat(own.stamp(), ipc);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            FabaStage r = running;
            if (r != null) {
                r.abort();
            }
        }, "faba-abort"));
        // The IPC specification's link to faba's directory, for people and tools: fabd and fab go by fabd/faba, not by it.
        IpcFiles.link(ipc.bp(), own.bp());
        while (true) {
            Message m = bell.next(200);
            // Looked at after every ring too, not only when none came for 200 ms: during a build faba's rings are few.
            if (client != 0 && !Libc.alive(client)) {
                abandon(relayed, "the client " + client + " is gone");
            }
            if (m == null) {
                continue;
            }
            switch (m) {
                case Message.Start s -> start();
                case Message.BpStart b -> {
                    bell.received(m);
                    stage();
                }
                case Message.Done d -> {
                    bell.received(m);
                    done();
                }
                default -> bell.received(m);
            }
        }
    }

    /** The client's START: note who waits, bring the watcher up to date, relay to fabd. */
    private void start() throws InterruptedException {
        long previous = relayed;
        try {
            IpcRecord.Args args = ipc.read(IpcRecord.Args.class, ipc.args());
            PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
            relayed = args == null ? 0 : args.invocation();
            request = args == null ? null : Request.parse(args.argv().toArray(String[]::new), quiet, quiet) instanceof Request.Run r ? r.request() : null;
        } catch (RuntimeException corrupt) {
            // fabd reads the same file and reports it; faba only needed the log switches and -j.
            relayed = 0;
            request = null;
        }
        if (client != 0 && relayed != previous) {
            // A new client holds fab/lock, so the one of the unanswered invocation is gone, even if faba has not seen
            // it die yet (the next fab of a shell follows a killed one within milliseconds). fabd answers that
            // invocation before this START: it must end now, not run its remaining commands and stages first.
            abandon(previous, "a new client's START came before fabd answered its invocation");
        }
        client = ipc.fabPid();
        try {
            IpcRecord.Environment env = ipc.read(IpcRecord.Environment.class, ipc.env());
            environment = env != null && relayed != 0 && env.invocation() == relayed ? env : null;
        } catch (RuntimeException corrupt) {
            environment = null;
        }
        daemon.ipcLogging(request != null && request.log().enabled(Log.Category.IPC));
        bell.received(Message.START);
        synced = watcher.sync();
        int fabd = ipc.fabdPid();
        credentials.ringAsFabsys(bell, "fabd", fabd, Message.START);
    }

    /**
     * The client of the relayed invocation went away before fabd answered it: its running commands are
     * killed and their products removed, the rest of the stage does not start, and every later stage of
     * it is answered BPBAD unrun ({@link #stage}), so fabd ends that build at once with "build aborted"
     * and takes the next START. Without the answers fabd would wait for a stage faba no longer runs.
     */
    private void abandon(long invocation, String why) {
        daemon.ipc("faba: " + why + ": aborting invocation " + Long.toHexString(invocation) + " (its running commands killed, no other started)");
        if (invocation != 0) {
            abandoned.add(invocation);
        }
        client = 0;
        FabaStage r = running;
        if (r != null) {
            r.abort();
        }
    }

    /** BPSTART: run the stage bp/stages names, unless it ran already (a merged or late ring). */
    private void stage() {
        IpcRecord.Stages stages = ipc.read(IpcRecord.Stages.class, own.stages());
        IpcRecord.Commands commands = ipc.read(IpcRecord.Commands.class, own.commands());
        if (stages == null || commands == null) {
            return;
        }
        // The discoveries of a command come first, under the complement of its id (see Fabd's Project#discover).
        boolean ofAbandoned = abandoned.contains(stages.invocation()) || abandoned.contains(~stages.invocation());
        boolean ofRelayed = relayed != 0 && (stages.invocation() == relayed || stages.invocation() == ~relayed);
        if (!(ofRelayed || ofAbandoned) || commands.invocation() != stages.invocation()) {
            // Work this faba did not relay a START for: not its client's, so not run.
            daemon.ipc("faba: stage " + stages.released() + " of invocation " + Long.toHexString(stages.invocation())
                    + " is not of the invocation this faba relayed (" + Long.toHexString(relayed) + "): ignored");
            return;
        }
        if (stages.invocation() != invocation) {
            invocation = stages.invocation();
            lastStage = 0;
            started.set(0);
        }
        if (stages.released() <= lastStage) {
            return;
        }
        if (runner != null) {
            // The previous stage's thread rang BPGOOD and is ending: fabd only releases a stage after it.
            try {
                runner.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        lastStage = stages.released();
        int number = stages.released();
        if (ofAbandoned) {
            // No exit record: fabd forgets these commands and ends the build as aborted.
            daemon.ipc("faba: stage " + number + " of invocation " + Long.toHexString(stages.invocation())
                    + " not run: its client went away");
            credentials.ringAsFabsys(bell, "fabd", ipc.fabdPid(), Message.BPBAD);
            return;
        }
        Log log = request != null ? request.log() : new Log(System.out, System.err);
        int jobs = request != null ? request.jobs() : Runtime.getRuntime().availableProcessors();
        FabaStage stage = new FabaStage(own, number, root, jobs, sink, log, started, credentials, environment);
        running = stage;
        daemon.ipc("faba: running stage " + number + "/" + stages.total());
        runner = Thread.ofPlatform().name("stage-" + number).start(() -> {
            boolean good;
            try {
                good = stage.run(stages.total(), commands.total());
            } catch (InterruptedException e) {
                good = false;
            }
            running = null;
            boolean ok = good;
            int fabd = ipc.fabdPid();
            credentials.ringAsFabsys(bell, "fabd", fabd, ok ? Message.BPGOOD : Message.BPBAD);
        });
    }

    /** fabd's DONE: write what fabd left for the user's files, then tell the client. */
    private void done() throws InterruptedException {
        if (runner != null) {
            runner.join();
        }
        IpcRecord.Exit exit = ipc.read(IpcRecord.Exit.class, ipc.exit());
        boolean ours = exit != null && relayed != 0 && exit.invocation() == relayed;
        boolean ofAbandoned = exit != null && abandoned.remove(exit.invocation());
        if (ofAbandoned && !ours) {
            // A newer START is relayed already and fabd's next command removes bp/state: nothing to install. fabd
            // keeps the state in memory and hands it over with that command's; no client waits for this DONE.
            daemon.ipc("faba: fabd ended invocation " + Long.toHexString(exit.invocation()) + ", whose client went away");
            return;
        }
        if (ours) {
            install(own.bp().resolve("state"), State.file(root), false);
            // fabd answered the START relayed after the sync: it read the changes file at least that far.
            watcher.drop(synced);
        }
        if (ours && request != null && request.buildscript() != null) {
            try {
                Path cwd = Files.readSymbolicLink(ipc.cwd());
                install(own.bp().resolve("buildscript"), cwd.resolve(request.buildscript()), true);
            } catch (IOException e) {
                daemon.ipc("faba: cannot read " + ipc.cwd() + ": " + e.getMessage());
            }
        }
        if (ofAbandoned) {
            // Its client is dead: its pid may be another process's by now.
            return;
        }
        int fab = client != 0 ? client : ipc.fabPid();
        bell.ring("fab", fab, Message.DONE);
        if (ours) {
            client = 0;
        }
    }

    /** Moves a file fabd wrote into the user's tree, owned by the user (faba writes it). */
    private void install(Path from, Path to, boolean executable) {
        if (!Files.exists(from)) {
            return;
        }
        try {
            Files.createDirectories(to.getParent());
            Path tmp = to.resolveSibling("." + to.getFileName() + ".fab-tmp");
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
            if (executable) {
                tmp.toFile().setExecutable(true);
            }
            Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            // fabd's file stays (faba may not remove it from fabd's bp/): fabd removes it when its next command starts.
            daemon.ipc("faba: wrote " + to);
        } catch (IOException e) {
            sink.line('E', "faba: cannot write " + to + ": " + e);
        }
    }

    private void ringFabd(Message m) {
        int fabd = ipc.fabdPid();
        credentials.ringAsFabsys(bell, "fabd", fabd, m);
    }
}
