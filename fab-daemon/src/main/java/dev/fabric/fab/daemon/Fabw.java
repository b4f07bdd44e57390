package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.Doorbell;
import dev.fabric.fab.ipc.IpcCodec;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.ipc.Message;
import dev.fabric.fab.ipc.PidDirectory;
import dev.fabric.fab.posix.Libc;
import dev.fabric.posix.PosixException;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code fabw}: the parent of one daemon, fabd or faba ({@code --child}). It starts the child, waits
 * for it and, the moment it ends, records why and rings CHILD_DIED to the waiting fab, which exits 14
 * (FABDFAIL) instead of waiting forever; then fabw ends too, and the next fab starts a fresh pair. A
 * fabd that ends with {@link Daemon#REEXEC} (an edited fabfile) is started again instead.
 * {@code fabw --system} is the root service of the credential model ({@link SystemService}).
 */
public final class Fabw {
    private Fabw() {
    }

    public static void main(String[] argv) {
        Daemon.main("fabw", () -> {
            DaemonOptions options = DaemonOptions.parse(argv, "--system");
            if (options.has("--system")) {
                new SystemService(options.roots()).run();
                return;
            }
            System.exit(supervise(options));
        });
    }

    private static int supervise(DaemonOptions options) throws InterruptedException {
        String child = options.get("--child");
        if (!"fabd".equals(child) && !"faba".equals(child)) {
            throw new FabException(ExitStatus.BADARGS, "--child fabd|faba is required");
        }
        try {
            // A session of its own: the client's Ctrl-C (to its process group) must not reach the daemons.
            Libc.setsid();
        } catch (PosixException alreadyLeader) {
            // Started by the system service as a group leader already.
        }
        IpcDirectory ipc = options.project();
        IpcRoots roots = options.roots();
        Credentials credentials = Credentials.forChild(options);
        // fabw keeps only what it needs to watch its child: the system service started it as root.
        credentials.beforeStart(child);
        java.nio.channels.FileLock pairLock = null;
        if ("fabd".equals(child)) {
            // Held for fabw's whole life: while it is, a fabd pair runs for the project (see Pairs).
            try {
                pairLock = java.nio.channels.FileChannel.open(ipc.fabdLock(), java.nio.file.StandardOpenOption.WRITE).tryLock();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock " + ipc.fabdLock(), e);
            }
            if (pairLock == null) {
                return 0;
            }
        }
        Daemon logger = new Daemon("fabw", new dev.fabric.fab.ipc.LogSink(ipc.logs()));
        Doorbell bell = new Doorbell("fabw(" + child + ")", List.of(), logger::ipc);
        while (true) {
            Process process = start(child, options, ipc);
            credentials.afterStart(child);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                process.destroy();
                try {
                    process.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "fabw-stop-child"));
            int status = process.waitFor();
            removeQuietly(PidDirectory.of(roots, process.pid()).dir());
            if ("fabd".equals(child) && status == Daemon.REEXEC) {
                logger.ipc("fabw: fabd " + process.pid() + " asked to be re-executed (a fabfile changed): starting it again");
                continue;
            }
            logger.ipcLogging(true);
            String why = status > 128 ? "killed by signal " + (status - 128) : "exit status " + status;
            if ("fabd".equals(child)) {
                recordFabdDeath(ipc, process.pid(), why);
            }
            int fab = ipc.fabPid();
            if (Libc.alive(fab)) {
                bell.ring("fab", fab, Message.CHILD_DIED);
            }
            if ("faba".equals(child)) {
                // faba's commands are in this process group; with faba gone nobody would reap or report
                // them, so they go with it (and this fabw too: its work is done).
                Libc.kill(-Libc.getpid(), 9);
            }
            // The lock must live as long as this fabw supervises (a collected channel would release it).
            java.lang.ref.Reference.reachabilityFence(pairLock);
            return 0;
        }
    }

    /**
     * When fabd dies in the middle of a command, fabd/exit and fabd/error say so for that command, so
     * the client reports why whichever way it learns of the death first.
     */
    private static void recordFabdDeath(IpcDirectory ipc, long pid, String why) {
        try {
            IpcRecord.Args args = ipc.read(IpcRecord.Args.class, ipc.args());
            IpcRecord.Exit last = ipc.read(IpcRecord.Exit.class, ipc.exit());
            if (args != null && (last == null || last.invocation() != args.invocation())) {
                IpcFiles.replace(ipc.error(), IpcCodec.encode(new IpcRecord.Error(args.invocation(), ExitStatus.FABDFAIL.code(),
                        "fabd (pid " + pid + ") ended abnormally (" + why + "); the next fab starts a fresh one")), "rw-r-----");
                IpcFiles.replace(ipc.exit(), IpcCodec.encode(new IpcRecord.Exit(args.invocation(), ExitStatus.FABDFAIL.code())), "rw-r-----");
            }
        } catch (RuntimeException unreadable) {
            // The client finds the pid gone on its own and reports it.
        }
    }

    private static Process start(String child, DaemonOptions options, IpcDirectory ipc) {
        Path home = Path.of(System.getProperty("fab.home", "."));
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/" + child).toString()));
        cmd.addAll(options.forChild());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(ipc.logs().toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(ipc.logs().toFile()));
        pb.environment().put("FAB_PARENT_PID", Integer.toString(Libc.getpid()));
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd.getFirst(), e);
        }
    }

    private static void removeQuietly(Path dir) {
        try {
            IpcFiles.removeTree(dir);
        } catch (UncheckedIOException e) {
            // The stale-directory sweep of the next fab removes it.
        }
    }
}
