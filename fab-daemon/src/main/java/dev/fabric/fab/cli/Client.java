package dev.fabric.fab.cli;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.build.Log;
import dev.fabric.fab.build.Options;
import dev.fabric.fab.build.Request;
import dev.fabric.fab.daemon.IdleTimeout;
import dev.fabric.fab.daemon.Pairs;
import dev.fabric.fab.ipc.Doorbell;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.ipc.LogLine;
import dev.fabric.fab.ipc.Message;
import dev.fabric.fab.ipc.SystemSocket;
import dev.fabric.fab.ipc.TmpDirectory;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code fab}, the client: validates the arguments, writes them into the project's IPC directory,
 * makes sure the project's fabw/fabd and fabw/faba pairs run (starting them when not), rings START,
 * prints what the daemons report while it waits for DONE, and exits with the status fabd recorded.
 * When a daemon dies instead (fabw rings CHILD_DIED, or the client's own check finds the pid gone),
 * it exits 14 (FABDFAIL) at once.
 */
public final class Client {
    /** How often the client looks at the daemons' pids and the logs between rings. */
    private static final long CHECK_MILLIS = 100;

    private final Request request;
    private final Log log;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;
    private boolean progressOpen;

    private Client(Request request, PrintStream out, PrintStream err, boolean terminal) {
        this.request = request;
        this.log = request.log();
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static int run(String[] argv, Path cwd, PrintStream out, PrintStream err, Map<String, String> env) {
        Request request;
        switch (Request.parse(argv, out, err)) {
            case Request.ExitNow e -> {
                return e.status();
            }
            case Request.Run r -> request = r.request();
        }
        var console = System.console();
        Client client = new Client(request, out, err, console != null && console.isTerminal());
        try {
            return client.run(cwd, env);
        } catch (FabException e) {
            request.log().log(Log.Category.ERROR, "fab: " + e.getMessage());
            return e.status().code();
        } catch (UncheckedIOException e) {
            request.log().log(Log.Category.ERROR, "fab: " + e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause()));
            return 128;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }

    private void ipc(String message) {
        log.log(Log.Category.IPC, "fab: " + message);
    }

    private int run(Path cwd, Map<String, String> env) throws InterruptedException {
        Options o = request.options();
        if (o.listDaemons()) {
            return DaemonList.print(IpcRoots.resolve(o.ipcDir(), o.tmpDir(), env), out);
        }
        Path fabfile = cwd.resolve(o.fabfile()).toAbsolutePath().normalize();
        if (!Files.isRegularFile(fabfile)) {
            throw new FabException(ExitStatus.NOINVOKE, "no fabfile at " + fabfile + ": create one, or name it with -f PATH");
        }
        Path canonical;
        try {
            canonical = fabfile.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + fabfile, e);
        }
        IpcRoots roots = IpcRoots.resolve(o.ipcDir(), o.tmpDir(), env);
        // The daemons this fab starts inherit the idle time: a bad one fails here, where someone reads it.
        IdleTimeout.of(env);
        IpcDirectory ipc = IpcDirectory.of(roots, canonical);
        ipc("project " + canonical + " -> " + ipc.dir());
        Pairs daemons = new Pairs(roots, ipc, this::ipc);
        if (o.shutdown()) {
            return shutdown(roots, ipc, daemons, canonical);
        }
        if (SystemSocket.present(roots)) {
            // The credential model: only the root service may start fabd as fabsys and faba as us.
            SystemSocket.ensure(roots, canonical, o.restart(), this::ipc);
        } else {
            ipc.createPrivate(canonical);
            TmpDirectory.prepare(roots.tmp(), "rwx------", this::ipc);
        }
        // fab/lock is the client's own (the system service creates and changes nothing of it): never opened through a link.
        try (FileChannel channel = FileChannel.open(ipc.fabLock(), StandardOpenOption.WRITE, StandardOpenOption.CREATE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                log.log(Log.Category.INFO, "fab: waiting for another fab building this project to finish");
                lock = channel.lock();
            }
            ipc("holds " + ipc.fabLock());
            try {
                if (!SystemSocket.present(roots)) {
                    if (o.restart()) {
                        daemons.stopFabd();
                    }
                    daemons.ensureRunning(List.of(), Libc.getuid());
                }
                return command(ipc, cwd, env, daemons);
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + ipc.fabLock(), e);
        }
    }

    /**
     * {@code --shutdown}: stops the project's fabd and faba (each fabw follows its child) and waits until
     * they are gone, so the next fab starts fresh ones. A build in progress finishes first: the command
     * takes {@code fab/lock} as a build does. In the credential model fabd runs as fabsys and only the
     * system service may stop it: refused with FABPERMS rather than half done.
     */
    private int shutdown(IpcRoots roots, IpcDirectory ipc, Pairs daemons, Path fabfile) throws InterruptedException {
        if (SystemSocket.present(roots)) {
            throw new FabException(ExitStatus.FABPERMS, "--shutdown: the daemons of " + fabfile
                    + " run under the system service (fabw --system), which alone may stop them");
        }
        if (!Files.isDirectory(ipc.dir(), LinkOption.NOFOLLOW_LINKS) || !Files.exists(ipc.fabLock())) {
            out.println("fab: no daemons running for " + fabfile);
            return 0;
        }
        ipc.createPrivate(fabfile);
        try (FileChannel channel = FileChannel.open(ipc.fabLock(), StandardOpenOption.WRITE, StandardOpenOption.CREATE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                log.log(Log.Category.INFO, "fab: waiting for another fab building this project to finish");
                lock = channel.lock();
            }
            try {
                int fabd = ipc.fabdPid();
                int faba = ipc.fabaPid();
                boolean fabdUp = daemons.fabdPairRunning();
                boolean fabaUp = daemons.fabaRunning();
                if (!fabdUp && !fabaUp) {
                    out.println("fab: no daemons running for " + fabfile);
                    return 0;
                }
                if (fabdUp) {
                    daemons.stopFabd();
                }
                if (fabaUp) {
                    daemons.stopFaba(faba);
                }
                out.println("fab: stopped the daemons of " + fabfile + " ("
                        + (fabdUp ? "fabd " + fabd : "") + (fabdUp && fabaUp ? ", " : "") + (fabaUp ? "faba " + faba : "")
                        + "); the next fab starts fresh ones");
                return 0;
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + ipc.fabLock(), e);
        }
    }

    /** One command: publish who waits, write args, ring START, wait for DONE or a daemon's death. */
    private int command(IpcDirectory ipc, Path cwd, Map<String, String> env, Pairs daemons) throws InterruptedException {
        Doorbell bell = new Doorbell("fab", List.of(Message.DONE, Message.CHILD_DIED), this::ipc);
        int me = Libc.getpid();
        IpcFiles.link(ipc.cwd(), cwd);
        IpcFiles.link(ipc.out(), terminalOf(1));
        IpcFiles.link(ipc.err(), terminalOf(2));
        ipc.writeAscii(ipc.pid(), me + "\n", "rw-r--r--");
        try (RandomAccessFile truncate = new RandomAccessFile(ipc.logs().toFile(), "rw")) {
            truncate.setLength(0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + ipc.logs(), e);
        }
        long id = ThreadLocalRandom.current().nextLong();
        // What the formulas of this invocation run with, as under make; the developer's alone (it may hold secrets), not in args.
        List<String> variables = env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        IpcFiles.replace(ipc.env(), dev.fabric.fab.ipc.IpcCodec.encode(new IpcRecord.Environment(id, umask(), variables)), "rw-------");
        IpcFiles.replace(ipc.args(), dev.fabric.fab.ipc.IpcCodec.encode(new IpcRecord.Args(id, request.argv())), "rw-r--r--");
        ipc("wrote " + ipc.args() + " (invocation " + Long.toHexString(id) + ", " + request.argv().size() + " argument(s))");
        int faba = ipc.fabaPid();
        int fabd = ipc.fabdPid();
        if (!bell.ring("faba", faba, Message.START)) {
            return daemonDied(ipc, "faba", faba);
        }
        long offset = 0;
        while (true) {
            Message m = bell.next(CHECK_MILLIS);
            if (m != null) {
                bell.received(m);
            }
            offset = drain(ipc.logs(), offset);
            // fabd/exit alone is not the end: faba installs .fab/state and the -k buildscript after it, then rings
            // DONE (fabw rings CHILD_DIED after it records a death there). So it is read on a ring, or once faba is gone.
            IpcRecord.Exit exit = m != null || !Libc.alive(faba) ? ipc.read(IpcRecord.Exit.class, ipc.exit()) : null;
            if (exit != null && exit.invocation() == id) {
                ipc("read " + ipc.exit() + ": status " + exit.status());
                offset = drain(ipc.logs(), offset);
                endProgress();
                if (exit.status() != 0) {
                    IpcRecord.Error error = ipc.read(IpcRecord.Error.class, ipc.error());
                    if (error != null && error.invocation() == id && !error.message().isEmpty()) {
                        log.log(Log.Category.ERROR, "fab: " + error.message());
                    }
                }
                return exit.status();
            }
            if (m != null || !Libc.alive(fabd) || !Libc.alive(faba)) {
                if (!Libc.alive(fabd) && daemons.fabdPairRunning()) {
                    // fabd ended but its fabw holds on: re-executing it (a fabfile changed), or recording its death.
                    fabd = ipc.fabdPid();
                    continue;
                }
                if (!Libc.alive(fabd)) {
                    drain(ipc.logs(), offset);
                    return daemonDied(ipc, "fabd", fabd);
                }
                if (!Libc.alive(faba)) {
                    drain(ipc.logs(), offset);
                    return daemonDied(ipc, "faba", faba);
                }
            }
        }
    }

    private int daemonDied(IpcDirectory ipc, String who, int pid) {
        endProgress();
        log.log(Log.Category.ERROR, "fab: " + who + " (pid " + pid + ") ended abnormally while this command waited for it; "
                + "its log is in " + ipc.logs() + "; the next fab starts a fresh one");
        return ExitStatus.FABDFAIL.code();
    }

    /** Prints the complete lines the daemons appended to {@code logs} since {@code offset}; returns the new offset. */
    private long drain(Path logs, long offset) {
        try (FileChannel ch = FileChannel.open(logs, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < offset) {
                offset = 0;
            }
            if (size == offset) {
                return offset;
            }
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) Math.min(size - offset, 1 << 24));
            ch.read(buf, offset);
            byte[] bytes = java.util.Arrays.copyOf(buf.array(), buf.position());
            int end = lastNewline(bytes);
            if (end < 0) {
                return offset;
            }
            for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n", -1)) {
                print(LogLine.decode(line));
            }
            return offset + end + 1;
        } catch (IOException e) {
            return offset;
        }
    }

    /** This process's umask, from {@code /proc/self/status} (Java has no call that reads it without changing it). */
    private static int umask() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring("Umask:".length()).strip(), 8);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Linux before 4.7 has no Umask line: the usual default.
        }
        return 0022;
    }

    private static int lastNewline(byte[] bytes) {
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void print(LogLine line) {
        switch (line.channel()) {
            case LogLine.PROGRESS -> {
                if (terminal) {
                    out.print("\r\033[K" + line.text());
                    out.flush();
                    progressOpen = true;
                } else {
                    out.println(line.text());
                }
            }
            case LogLine.OUT -> {
                endProgress();
                out.println(line.text());
            }
            default -> {
                endProgress();
                err.println(line.text());
            }
        }
    }

    private void endProgress() {
        if (progressOpen) {
            out.println();
            progressOpen = false;
        }
    }

    /** What descriptor {@code fd} of this process is: a terminal or file path, else the /proc path to it. */
    private static Path terminalOf(int fd) {
        Path self = Path.of("/proc/self/fd/" + fd);
        try {
            Path target = Files.readSymbolicLink(self);
            if (target.isAbsolute() && !target.toString().contains("(deleted)")) {
                return target;
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Fall through to the /proc path.
        }
        return Path.of("/proc/" + Libc.getpid() + "/fd/" + fd);
    }
}
