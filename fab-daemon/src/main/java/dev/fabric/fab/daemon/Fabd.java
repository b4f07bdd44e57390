package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.build.Build;
import dev.fabric.fab.build.Log;
import dev.fabric.fab.build.Request;
import dev.fabric.fab.exec.CommandResult;
import dev.fabric.fab.fabfile.Model;
import dev.fabric.fab.graph.Graph;
import dev.fabric.fab.ipc.Doorbell;
import dev.fabric.fab.ipc.IpcCodec;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.ipc.LogLine;
import dev.fabric.fab.ipc.LogSink;
import dev.fabric.fab.ipc.Message;
import dev.fabric.fab.ipc.PidDirectory;
import dev.fabric.fab.plan.BuildPlan;
import dev.fabric.fab.plan.State;
import dev.fabric.fab.posix.Libc;
import dev.fabric.fab.watch.ChangesFile;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code fabd}: keeps a project's model, graph and state in memory between commands. On START it
 * reads {@code args}, selects, plans, hands each stage to faba (BPSTART, answered by BPGOOD or
 * BPBAD), records the results, writes {@code fabd/exit} (and {@code fabd/error}) and rings DONE to
 * faba. faba's file-system events keep the cache honest: REPLAN marks the changed files (only those
 * are looked at again), REINTERPRET drops the model when files appeared or vanished that the graph
 * does not know, REEXEC (a fabfile changed) makes fabd end with {@link Daemon#REEXEC} so fabw starts
 * a fresh one. fabd writes no file of the user's: the state and buildscripts go through faba.
 */
public final class Fabd {
    private final IpcDirectory ipc;
    private final IpcRoots roots;
    private final PidDirectory own;
    private final LogSink sink;
    private final Daemon daemon;
    private final Doorbell bell;
    private final Credentials credentials;
    private final List<Message> deferred = new ArrayList<>();

    private String loadKey;
    private Build.Loaded loaded;
    private State state;
    private Path stateRoot;
    private int watchedBy;
    private long changesRead;
    private boolean reexec;

    private Fabd(IpcDirectory ipc, IpcRoots roots, Credentials credentials) {
        this.ipc = ipc;
        this.roots = roots;
        this.credentials = credentials;
        this.own = PidDirectory.of(roots, Libc.getpid());
        this.sink = new LogSink(ipc.logs());
        this.daemon = new Daemon("fabd", sink);
        this.bell = new Doorbell("fabd", List.of(Message.START, Message.BPGOOD, Message.BPBAD, Message.REINTERPRET,
                Message.REPLAN, Message.REEXEC), daemon::ipc);
    }

    public static void main(String[] argv) {
        Daemon.main("fabd", () -> {
            DaemonOptions options = DaemonOptions.parse(argv);
            IpcDirectory ipc = options.project();
            // Its own process group, named in fabd/pgid: -B and the tests stop fabd with everything it started.
            Libc.setpgid(0, 0);
            Daemon.tieToParent();
            new Fabd(ipc, options.roots(), Credentials.forChild(options)).serve();
        });
    }

    private void serve() throws InterruptedException {
        IpcFiles.mkdir(own.dir(), credentials.model() ? "rwxr-x---" : "rwx------");
        IpcFiles.mkdir(own.dsc(), credentials.model() ? "rwxr-x---" : "rwx------");
        Daemon.touch(own.stamp(), "rw-------");
        Daemon.heartbeat(own.stamp(), ipc);
        if (!Files.exists(ipc.error())) {
            writeError(0, 0, "");
        }
        // Published last: whoever reads the pid may ring at once, and the handlers are in place.
        ipc.writeAscii(ipc.pgid(), Libc.getpid() + "\n", "rw-r--r--");
        IpcFiles.link(ipc.dsc(), own.dsc());
        if (unansweredCommand()) {
            // A START this fabd never heard: rung to the fabd before it while that one was ending for
            // REEXEC (or heard by it and left for its successor). The client still waits for it.
            daemon.ipc("fabd: the command in args was not answered by the fabd before this one: taking it");
            deferred.add(Message.START);
        }
        while (true) {
            Message m = deferred.isEmpty() ? bell.next(1000) : deferred.removeFirst();
            if (m == null) {
                continue;
            }
            switch (m) {
                case Message.Start s -> command();
                case Message.Replan r -> {
                    bell.received(m);
                    absorbChanges();
                }
                case Message.Reinterpret r -> {
                    bell.received(m);
                    absorbChanges();
                }
                case Message.Reexec r -> {
                    bell.received(m);
                    reexec = true;
                }
                case Message.BpGood g -> bell.received(m);
                case Message.BpBad b -> bell.received(m);
                case Message.Done d -> { }
                case Message.BpStart b -> { }
                case Message.ChildDied c -> { }
            }
            if (reexec) {
                daemon.ipc("fabd: a fabfile changed: ending so that fabw re-executes fabd");
                System.exit(Daemon.REEXEC);
            }
        }
    }

    /**
     * Whether {@code args} holds a command no fabd answered ({@code fabd/exit} names another invocation)
     * while its client still waits: a fabfile edited just before a fab makes the running fabd end for
     * REEXEC, and the START that fab's faba relays meanwhile reaches the ending fabd, or none.
     */
    private boolean unansweredCommand() {
        try {
            IpcRecord.Args args = ipc.read(IpcRecord.Args.class, ipc.args());
            IpcRecord.Exit exit = ipc.read(IpcRecord.Exit.class, ipc.exit());
            return args != null && (exit == null || exit.invocation() != args.invocation()) && Libc.alive(ipc.fabPid());
        } catch (RuntimeException unreadable) {
            return false; // a START reports it
        }
    }

    /** One START: read args, run the command, record exit and error, ring DONE. */
    private void command() {
        long id = 0;
        int status;
        String error = null;
        try {
            IpcRecord.Args args = ipc.read(IpcRecord.Args.class, ipc.args());
            if (args == null) {
                throw new FabException(ExitStatus.BADIPC, "no args file in " + ipc.dir() + ": START without a command");
            }
            id = args.invocation();
            status = run(args);
        } catch (FabException e) {
            status = e.status().code();
            error = e.getMessage();
        } catch (UncheckedIOException e) {
            status = 128;
            error = e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause());
        } catch (RuntimeException e) {
            status = 128;
            error = "fabd failed: " + e;
            e.printStackTrace();
        }
        // Written after every command, success included: fabd/error always holds the last command's error code (0: none).
        writeError(id, status, error == null ? "" : error);
        IpcFiles.replace(ipc.exit(), IpcCodec.encode(new IpcRecord.Exit(id, status)), "rw-r--r--");
        daemon.ipc("fabd: wrote " + ipc.exit() + " (status " + status + ")");
        bell.ring("faba", ipc.fabaPid(), Message.DONE);
    }

    private void writeError(long invocation, int code, String message) {
        IpcFiles.replace(ipc.error(), IpcCodec.encode(new IpcRecord.Error(invocation, code, message)), "rw-r--r--");
        daemon.ipc("fabd: wrote " + ipc.error() + " (" + code + ")");
    }

    private int run(IpcRecord.Args args) {
        PrintStream out = sink.stream(LogLine.OUT);
        PrintStream err = sink.stream(LogLine.ERR);
        Request request = switch (Request.parse(args.argv().toArray(String[]::new), out, err)) {
            case Request.ExitNow e -> null;
            case Request.Run r -> r.request();
        };
        if (request == null) {
            // Read even so: faba drops what was there at this START once it has fabd's answer.
            absorbChanges();
            return ExitStatus.BADARGS.code();
        }
        daemon.ipcLogging(request.log().enabled(Log.Category.IPC));
        bell.received(Message.START);
        daemon.ipc("fabd: read " + ipc.args() + " (invocation " + Long.toHexString(args.invocation()) + ")");
        absorbChanges();
        Path cwd;
        try {
            cwd = Files.readSymbolicLink(ipc.cwd());
        } catch (IOException e) {
            throw new FabException(ExitStatus.BADIPC, "cannot read the client's directory " + ipc.cwd() + ": " + e.getMessage());
        }
        int faba = ipc.fabaPid();
        PidDirectory fabaDir = PidDirectory.of(roots, faba);
        // What the previous command handed faba goes now (faba may read, not remove, what fabd writes in bp/).
        for (String handed : List.of("state", "buildscript")) {
            try {
                Files.deleteIfExists(fabaDir.bp().resolve(handed));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove " + fabaDir.bp().resolve(handed), e);
            }
        }
        Project project = new Project(args.invocation(), faba, fabaDir, request);
        try {
            Build.execute(request, cwd, out, project);
        } finally {
            project.handOverState();
            if (state != null) {
                // The files just looked at are vouched for by the watcher from now on (faba writes changes only while it watches).
                state.trust(watchedBy == faba && Files.exists(fabaDir.changes()));
            }
        }
        return 0;
    }

    /**
     * Reads what faba's watcher appended to its {@code changes} file since the last look: {@code M}
     * a file's content changed, {@code C}/{@code D} a file appeared/vanished, {@code *} everything
     * must be looked at again (the watcher overflowed or restarted).
     */
    private void absorbChanges() {
        int faba = ipc.fabaPid();
        if (faba != watchedBy) {
            // A new faba: what changed before its watcher started is unknown (a fabfile too): verify and interpret everything once.
            watchedBy = faba;
            changesRead = 0;
            loaded = null;
            if (state != null) {
                state.trust(false);
            }
        }
        Path changes = PidDirectory.of(roots, faba).changes();
        byte[] all;
        try {
            // faba's file, read as fabsys: never through a link the developer put in its place.
            all = IpcFiles.readOwned(changes, credentials.fabaFileOwner());
        } catch (FabException notFaba) {
            daemon.ipc("fabd: " + notFaba.getMessage() + ": every file will be looked at");
            changesRead = 0;
            loaded = null;
            if (state != null) {
                state.trust(false);
            }
            return;
        }
        if (all == null) {
            return;
        }
        ChangesFile.Read read = ChangesFile.read(all, changesRead);
        if (read.gap()) {
            // faba dropped entries this fabd never read (a command it did not answer): nothing can be taken on trust.
            daemon.ipc("fabd: " + changes + " no longer holds what changed since offset " + changesRead + ": every file will be looked at");
            loaded = null;
            if (state != null) {
                state.trust(false);
            }
        }
        changesRead = read.next();
        for (String entry : read.entries()) {
            if (entry.isEmpty()) {
                continue;
            }
            char kind = entry.charAt(0);
            String path = entry.length() > 2 ? entry.substring(2) : "";
            if (kind == '*') {
                daemon.ipc("fabd: the watcher asks for a full look (" + path + ")");
                if (state != null) {
                    state.trust(false);
                }
                loaded = null;
                continue;
            }
            // Named against the project root even when the model was dropped by an earlier entry of the same batch:
            // a change named by its absolute path would mark no node, and the state would keep vouching for it.
            Path root = loaded != null ? loaded.model().root() : stateRoot;
            String node = root == null ? path : relative(root, path);
            if (state != null) {
                state.dirty(node);
            }
            if (loaded != null) {
                Model model = loaded.model();
                Graph graph = loaded.graph();
                boolean fabfile = model.fabfiles().stream().anyMatch(f -> f.toString().equals(path));
                // A file that appeared and is gone again (ar's and many tools' temporary, renamed into place)
                // changed no directory listing a pattern could match: the model stands.
                boolean unknownAppeared = kind == 'C' && !graph.contains(node)
                        && Files.exists(model.root().resolve(node), LinkOption.NOFOLLOW_LINKS);
                boolean primaryVanished = kind == 'D' && graph.contains(node) && graph.node(node).formula() == null;
                boolean directoryVanished = kind == 'D' && !graph.contains(node) && holdsNodes(graph, node);
                if (fabfile || unknownAppeared || primaryVanished || directoryVanished) {
                    daemon.ipc("fabd: " + path + (fabfile ? " is a fabfile" : unknownAppeared ? " appeared" : " vanished")
                            + ": the fabfiles are interpreted again");
                    loaded = null;
                }
            }
        }
    }

    /** Whether a path names a directory with nodes under it: when it vanishes (removed, renamed), so may the sources its patterns matched. */
    private static boolean holdsNodes(Graph graph, String dir) {
        String prefix = dir + "/";
        return graph.nodes().stream().anyMatch(n -> n.name().startsWith(prefix));
    }

    private static String relative(Path root, String path) {
        Path p = Path.of(path);
        return p.startsWith(root) ? root.relativize(p).toString() : path;
    }

    /** The project as fabd sees it: cached model and state, stages run by faba. */
    private final class Project implements Build.Project {
        private final long invocation;
        private final int faba;
        private final PidDirectory fabaDir;
        private final Request request;
        private boolean stateChanged;

        Project(long invocation, int faba, PidDirectory fabaDir, Request request) {
            this.invocation = invocation;
            this.faba = faba;
            this.fabaDir = fabaDir;
            this.request = request;
        }

        @Override
        public Build.Loaded load(Request request, Path cwd) {
            String key = request.loadKey(cwd);
            if (loaded == null || !key.equals(loadKey)) {
                daemon.ipc("fabd: interpreting the fabfiles");
                loaded = Build.loadFresh(request, cwd);
                loadKey = key;
            } else {
                daemon.ipc("fabd: graph kept in memory (" + loaded.graph().nodes().size() + " nodes)");
            }
            return loaded;
        }

        @Override
        public State state(Model model) {
            if (state == null || !model.root().equals(stateRoot)) {
                state = State.load(model.root());
                stateRoot = model.root();
            }
            return state;
        }

        @Override
        public void saveState(State s, Model model) {
            stateChanged = true;
        }

        @Override
        public void writeBuildscript(Path target, String text) {
            IpcFiles.replace(fabaDir.bp().resolve("buildscript"), text.getBytes(StandardCharsets.UTF_8), credentials.innerFileMode());
        }

        /**
         * faba runs the discoveries as a plan of one stage, under an invocation id of their own (faba runs
         * each stage of an invocation once, and the build plan follows under the command's id); fabd
         * keeps each one's command and output in its {@code dsc/<n>/{cmd,out,err}}.
         */
        @Override
        public List<CommandResult> discover(BuildPlan plan, State s, Model model, int jobs) {
            stateChanged = true;
            List<CommandResult> results = new RemotePlan(ipc, fabaDir, faba, ~invocation, bell, daemon, deferred, credentials, request.log(), own.dir().resolve("clock"))
                    .run(plan, s, model);
            String dirMode = credentials.model() ? "rwxr-x---" : "rwx------";
            String fileMode = credentials.model() ? "rw-r-----" : "rw-------";
            try (java.util.stream.Stream<Path> old = Files.list(own.dsc())) {
                for (Path p : old.toList()) {
                    IpcFiles.removeTree(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot clear " + own.dsc(), e);
            }
            int n = 0;
            for (CommandResult r : results) {
                Path dir = own.dsc().resolve(Integer.toString(++n));
                IpcFiles.mkdir(dir, dirMode);
                IpcFiles.replace(dir.resolve("cmd"), (r.command().formula().command() + "\n").getBytes(StandardCharsets.UTF_8), fileMode);
                IpcFiles.replace(dir.resolve("out"), r.stdout(), fileMode);
                IpcFiles.replace(dir.resolve("err"), r.stderr(), fileMode);
            }
            return results;
        }

        @Override
        public void run(BuildPlan plan, State s, Model model, int jobs) {
            stateChanged = true;
            new RemotePlan(ipc, fabaDir, faba, invocation, bell, daemon, deferred, credentials, request.log(), own.dir().resolve("clock"))
                    .run(plan, s, model);
        }

        /** The state goes to faba, which writes the user's {@code .fab/state} on DONE. */
        void handOverState() {
            if (stateChanged && state != null) {
                byte[] text = (String.join("\n", state.lines()) + "\n").getBytes(StandardCharsets.UTF_8);
                IpcFiles.replace(fabaDir.bp().resolve("state"), text, credentials.innerFileMode());
            }
        }
    }
}
