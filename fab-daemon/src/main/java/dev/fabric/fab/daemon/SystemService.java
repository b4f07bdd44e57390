package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.ipc.SystemSocket;
import dev.fabric.fab.ipc.TmpDirectory;
import dev.fabric.fab.posix.Accounts;
import dev.fabric.fab.posix.Libc;

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

    /** One project for one developer: the directory laid out for them, then both pairs running. */
    private synchronized void ensure(Accounts.User developer, boolean restart, Path fabfile) throws InterruptedException {
        if (developer.uid() == 0) {
            throw new FabException(ExitStatus.FABPERMS, "fab runs as the developer here, not as root (no daemon keeps root): run it as your user");
        }
        if (developer.uid() == fabsys.uid()) {
            throw new FabException(ExitStatus.FABPERMS, "fab cannot be run as " + fabsys.name() + ", the user fabd runs as");
        }
        Path canonical;
        try {
            canonical = fabfile.toRealPath();
        } catch (IOException e) {
            throw new FabException(ExitStatus.NOINVOKE, "no fabfile at " + fabfile);
        }
        IpcDirectory ipc = IpcDirectory.of(roots, canonical);
        Pairs pairs = new Pairs(roots, ipc, m -> System.out.println("fabw --system: " + ipc.dir().getFileName() + ": " + m));
        boolean exists = Files.isDirectory(ipc.dir(), LinkOption.NOFOLLOW_LINKS);
        int group = exists ? gid(ipc.dir()) : developer.gid();
        int faba = exists ? ipc.fabaPid() : 0;
        // The bp link belongs to the previous developer, who could point it at any pid: root signals only a faba of this project.
        if (faba != 0 && Libc.alive(faba) && isFabaOf(faba, ipc) && (group != developer.gid() || ownerOf(faba) != developer.uid())) {
            // Another developer's faba: recycled, as the seed says, and the directory handed over.
            pairs.stopFaba(faba);
        } else if (faba != 0 && Libc.alive(faba) && !isFabaOf(faba, ipc)) {
            // A link to something that is not this project's faba: forgotten, so a fresh faba starts.
            try {
                Files.deleteIfExists(ipc.bp());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove " + ipc.bp(), e);
            }
        }
        layOut(ipc, canonical, developer);
        // What the client sweeps in one-user mode: faba's fabw, the developer by then, may not remove faba's
        // directory from root's pid/ (sticky, not writable for developers), so stale ones go here.
        TmpDirectory.prepare(roots.tmp(), "rwxr-xr-x", m -> System.out.println("fabw --system: " + m));
        if (restart) {
            pairs.stopFabd();
        }
        pairs.ensureRunning(List.of("--user", developer.uid() + ":" + developer.gid()));
    }

    /**
     * The seed's layout with modes that let exactly the developer and fabsys in (docs/fab.md, "Directories
     * and modes"). fabd runs with fabsys's groups only, never the developer's: what it must read of the
     * developer's entries is reached through group fabsys ({@code fab/}), what the developer must read of
     * fabd's through the developer's group ({@code fabd/}), and the project directory, which both write,
     * is fabsys's with the developer's group, sticky, so neither removes or replaces the other's entries.
     */
    private void layOut(IpcDirectory ipc, Path canonical, Accounts.User developer) {
        int f = fabsys.uid();
        int d = developer.uid();
        int g = developer.gid();
        int fg = fabsys.gid();
        make(ipc.dir(), f, g, 03770);
        // fabd's records: fabd writes, the developer's fab and faba read.
        make(ipc.fabdDir(), f, g, 02750);
        // The client's links and pid: fab writes, fabd (cwd) and its fabw (pid) read; setgid keeps entries group fabsys.
        make(ipc.fabDir(), d, fg, 02750);
        file(ipc.fabdLock(), f, g, 0640);
        file(ipc.fabLock(), d, fg, 0600);
        file(ipc.logs(), f, g, 0660);
        for (Path p : List.of(ipc.exit(), ipc.error(), ipc.pgid())) {
            chownIfPresent(p, f, g);
        }
        // Another developer's entries, left when the project changed hands: the new developer replaces them.
        chownIfPresent(ipc.args(), d, g);
        chownIfPresent(ipc.bp(), d, g);
        for (Path p : List.of(ipc.pid(), ipc.cwd(), ipc.out(), ipc.err())) {
            chownIfPresent(p, d, fg);
        }
        if (!Files.isSymbolicLink(ipc.fabfile())) {
            IpcFiles.link(ipc.fabfile(), canonical);
        }
        Credentials.chown(ipc.fabfile(), f, g);
    }

    private static void chownIfPresent(Path p, int uid, int gid) {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            Credentials.chown(p, uid, gid);
        }
    }

    private static void make(Path dir, int uid, int gid, int mode) {
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        Credentials.chown(dir, uid, gid);
        Libc.chmod(dir, mode);
    }

    private static void file(Path file, int uid, int gid, int mode) {
        IpcFiles.touch(file, "rw-------");
        Credentials.chown(file, uid, gid);
        Libc.chmod(file, mode);
    }

    private static int gid(Path p) {
        try {
            return (int) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code pid} runs faba for {@code ipc}'s project (its command line, from /proc). */
    private static boolean isFabaOf(int pid, IpcDirectory ipc) {
        try {
            List<String> argv = List.of(new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).split("\0"));
            int project = argv.indexOf("--project");
            return argv.contains(Faba.class.getName()) && project >= 0 && project + 1 < argv.size()
                    && argv.get(project + 1).equals(ipc.dir().toString());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The real uid of a process, from /proc. */
    private static int ownerOf(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone meanwhile.
        }
        return -1;
    }
}
