package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.ipc.SystemSocket;
import dev.fabric.fab.ipc.TmpDirectory;
import dev.fabric.fab.posix.Accounts;
import dev.fabric.fab.posix.Descriptor;
import dev.fabric.fab.posix.Libc;
import dev.fabric.posix.PosixException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code fabw --system}: the root service of the credential model, in the foreground (the workspace
 * container's entrypoint). A Java {@code fab} cannot be setuid, so it cannot start fabd as fabsys or
 * give faba a saved uid of fabsys; it asks this service over {@code <fabipcdir>/system.sock}. The
 * service reads the caller's identity from the socket (SO_PEERCRED), lays out the project's IPC
 * directory for that developer, and starts the pairs: a fabw that becomes fabsys and starts fabd,
 * and a fabw that starts faba as root (faba sets real and effective uid to the developer, saved uid
 * to fabsys) and then becomes the developer. Nothing it starts keeps root.
 */
final class SystemService {
    private final IpcRoots roots;
    private final Accounts accounts = Accounts.system();
    private Accounts.User fabsys;

    SystemService(IpcRoots roots) {
        this.roots = roots;
    }

    void run() throws InterruptedException {
        if (Libc.geteuid() != 0) {
            throw new FabException(ExitStatus.FABPERMS, "fabw --system starts daemons as fabsys and as each developer, so it must run as root (uid 0), not uid "
                    + Libc.geteuid() + "; without root, run fab directly: everything then runs as you");
        }
        fabsys = Credentials.systemUser(accounts);
        prepare();
        Path socket = roots.ipc().resolve(SystemSocket.NAME);
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            // Anyone may ask; the answer depends on who asks, which the kernel tells (SO_PEERCRED).
            Libc.chmod(socket, 0666);
            System.out.println("fabw --system: serving " + socket + " (fabd as " + fabsys.name() + ", uid " + fabsys.uid() + ")");
            while (true) {
                SocketChannel client = server.accept();
                Thread.ofVirtual().start(() -> serve(client));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve " + socket, e);
        }
    }

    /** The roots, owned as the model needs them; anything else is FABPERMS with the fix. */
    private void prepare() {
        try {
            Files.createDirectories(roots.ipc());
            Files.createDirectories(roots.tmp().resolve("pid"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + roots.ipc() + " or " + roots.tmp(), e);
        }
        for (Path p : List.of(roots.ipc(), roots.tmp())) {
            requireOwner(p, 0);
            Libc.chmod(p, 0755);
        }
        Path pids = roots.tmp().resolve("pid");
        requireOwner(pids, 0);
        Credentials.chown(pids, 0, fabsys.gid());
        // fabd (group fabsys) creates its directory here; the sticky bit keeps each daemon's entry its own.
        Libc.chmod(pids, 01775);
        TmpDirectory.prepare(roots.tmp(), "rwxr-xr-x", System.out::println);
    }

    private static void requireOwner(Path p, int uid) {
        try {
            int owner = (int) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != uid) {
                throw new FabException(ExitStatus.FABPERMS, p + " belongs to uid " + owner + "; the credential model needs it owned by root: chown root " + p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the owner of " + p, e);
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            String answer;
            try {
                var principal = client.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
                Accounts.User developer = user(principal.user().getName());
                String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8)).readLine();
                if (line == null || !line.startsWith("ENSURE ") || line.length() < 10) {
                    throw new FabException(ExitStatus.BADIPC, "the system service expects ENSURE <0|1> <fabfile>, got " + line);
                }
                ensure(developer, line.charAt(7) == '1', Path.of(line.substring(9)));
                answer = SystemSocket.answer(null);
            } catch (FabException e) {
                answer = SystemSocket.answer(e);
            } catch (RuntimeException | InterruptedException e) {
                answer = "ERR 128 the system service failed: " + e;
            }
            client.write(java.nio.ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            System.err.println("fabw --system: a client went away: " + e.getMessage());
        }
    }

    private Accounts.User user(String name) {
        if (name.matches("[0-9]+")) {
            int uid = Integer.parseInt(name);
            return accounts.user(uid).orElseThrow(() -> new FabException(ExitStatus.FABPERMS, "uid " + uid + " has no entry in /etc/passwd"));
        }
        return accounts.user(name).orElseThrow(() -> new FabException(ExitStatus.FABPERMS, "user " + name + " has no entry in /etc/passwd"));
    }

    /**
     * One project for one developer: the directory laid out for them, then both pairs running. One
     * developer per project at a time: a project in use by another developer (its directory has their
     * group) is taken over, their faba and fabd stopped, only by the owner of its fabfile; anyone else
     * is refused with NOTOWNER (16), so no developer can stop another's daemons, restart them or take
     * their project directory by naming their fabfile.
     */
    private synchronized void ensure(Accounts.User developer, boolean restart, Path fabfile) throws InterruptedException {
        if (developer.uid() == 0) {
            throw new FabException(ExitStatus.FABPERMS, "fab runs as the developer here, not as root (no daemon keeps root): run it as your user");
        }
        if (developer.uid() == fabsys.uid()) {
            throw new FabException(ExitStatus.FABPERMS, "fab cannot be run as " + fabsys.name() + ", the user fabd runs as");
        }
        Path canonical;
        int fabfileOwner;
        try {
            canonical = fabfile.toRealPath();
            fabfileOwner = (int) Files.getAttribute(canonical, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new FabException(ExitStatus.NOINVOKE, "no fabfile at " + fabfile);
        }
        IpcDirectory ipc = IpcDirectory.of(roots, canonical);
        Pairs pairs = new Pairs(roots, ipc, m -> System.out.println("fabw --system: " + ipc.dir().getFileName() + ": " + m));
        boolean exists = Files.isDirectory(ipc.dir(), LinkOption.NOFOLLOW_LINKS);
        int group = exists ? gid(ipc.dir()) : developer.gid();
        if (group != developer.gid()) {
            if (fabfileOwner != developer.uid()) {
                throw new FabException(ExitStatus.NOTOWNER, "the project of " + canonical + " is in use by another developer (group "
                        + group + ", not yours), and its fabfile belongs to uid " + fabfileOwner + ", not to you (uid "
                        + developer.uid() + "): one developer per project at a time, and only the fabfile's owner takes a project over; "
                        + "build a copy of the project of your own, or ask its owner");
            }
            // The fabfile's owner takes their project back: the other developer's daemons go. fabd goes too: it reads
            // faba's files as the previous developer's and keeps their state.
            int faba = ipc.fabaPid();
            if (Pairs.isFabaOf(faba, ipc)) {
                pairs.stopFaba(faba);
            }
            pairs.stopFabd();
        }
        layOut(ipc, canonical, developer);
        // What the client sweeps in one-user mode: faba's fabw, the developer by then, may not remove faba's
        // directory from root's pid/ (sticky, not writable for developers), so stale ones go here.
        TmpDirectory.prepare(roots.tmp(), "rwxr-xr-x", m -> System.out.println("fabw --system: " + m));
        if (restart) {
            pairs.stopFabd();
        }
        pairs.ensureRunning(List.of("--user", developer.uid() + ":" + developer.gid()), developer.uid());
    }

    /**
     * The project directory's layout with modes that let exactly the developer and fabsys in (docs/fab.md,
     * "Directories and modes"). fabd runs with fabsys's groups only, never the developer's: what it must
     * read of the developer's entries is reached through group fabsys ({@code fab/}), what the developer
     * must read of fabd's through the developer's group ({@code fabd/}), and the project directory, which
     * both write, is fabsys's with the developer's group, sticky, so neither removes or replaces the
     * other's entries.
     * <p>
     * The developer can write in the project directory and owns {@code fab/}, so root goes through
     * descriptors here ({@link Descriptor}): each directory opened without following a link, modes and
     * owners set on what was opened, files created exclusively; a link where a file of fabsys's belongs is
     * removed, never followed. The developer's own entries are only given to the developer (the link
     * itself, never its target), and {@code fab/lock} is left to the client altogether.
     */
    private void layOut(IpcDirectory ipc, Path canonical, Accounts.User developer) {
        int f = fabsys.uid();
        int d = developer.uid();
        int g = developer.gid();
        int fg = fabsys.gid();
        try (Descriptor root = Descriptor.openDirectory(roots.ipc());
             Descriptor project = directory(root, ipc.dir().getFileName().toString(), f, g, 03770);
             Descriptor fabdDir = directory(project, "fabd", f, g, 02750);
             Descriptor fabDir = directory(project, "fab", d, fg, 02750)) {
            // fabd's records: fabd writes, the developer's fab and faba read.
            file(fabdDir, "lock", f, g, 0640);
            for (String entry : List.of("exit", "error", "pgid")) {
                fabdDir.chown(entry, f, g);
            }
            file(project, "logs", f, g, 0660);
            // Entries of a previous developer of the project, who was its fabfile's owner: the new one replaces them.
            project.chown("args", d, g);
            project.chown("bp", d, g);
            for (String entry : List.of("pid", "cwd", "out", "err", "lock")) {
                fabDir.chown(entry, d, fg);
            }
            // A client's environment is never handed over, to a new owner least of all: removed (every fab writes its own
            // before START, after this ensure).
            if (fabDir.stat("env").isPresent()) {
                fabDir.unlink("env", false);
            }
            if (project.stat("fabfile").map(st -> !st.isSymbolicLink()).orElse(true)) {
                IpcFiles.link(ipc.fabfile(), canonical);
            }
            project.chown("fabfile", f, g);
        } catch (PosixException e) {
            throw new FabException(ExitStatus.BADIPC, "cannot lay out " + ipc.dir() + " (" + e.getMessage() + "): something that is "
                    + "not fab's is in the way; the developer of the project can remove it, or remove the project's IPC directory");
        }
    }

    /**
     * The directory {@code name} in {@code parent}, made when missing, opened without following a link,
     * then given its owner and mode through the descriptor; whatever else has the name (a link, a file) is removed first.
     */
    private static Descriptor directory(Descriptor parent, String name, int uid, int gid, int mode) {
        if (parent.stat(name).map(st -> !st.isDirectory()).orElse(false)) {
            parent.unlink(name, false);
        }
        parent.makeDirectory(name, 0700);
        Descriptor dir = parent.directory(name);
        dir.chown(uid, gid);
        dir.chmod(mode);
        return dir;
    }

    /** The regular file {@code name}, as {@link #directory}: never through a link, owner and mode set on what was opened. */
    private static void file(Descriptor parent, String name, int uid, int gid, int mode) {
        if (parent.stat(name).map(st -> !st.isRegularFile()).orElse(false)) {
            parent.unlink(name, false);
        }
        try (Descriptor file = parent.file(name, 0600)) {
            if (!file.stat().isRegularFile()) {
                throw new FabException(ExitStatus.BADIPC, name + " in the project's IPC directory is not a regular file");
            }
            file.chown(uid, gid);
            file.chmod(mode);
        }
    }

    private static int gid(Path p) {
        try {
            return (int) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
