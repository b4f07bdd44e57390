package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.Doorbell;
import dev.fabric.fab.ipc.Message;
import dev.fabric.fab.ipc.PidDirectory;
import dev.fabric.fab.posix.Accounts;
import dev.fabric.fab.posix.Descriptor;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Who a daemon runs as. Without {@code --user} (one user, a laptop) nothing changes: every process is
 * the user who ran fab. With {@code --user UID:GID} (the credential model, started by the root
 * {@link SystemService}) each process holds these ids, so that fabd never acts as the developer and
 * faba can still signal fabd:
 * <pre>
 *            fabd     faba               fabw of fabd   fabw of faba
 * real       fabsys   developer          fabsys         developer
 * effective  fabsys   developer          fabsys         developer
 * saved      fabsys   fabsys             fabsys         developer
 * </pre>
 * faba's saved uid lets it take the effective uid fabsys for the instant of a kill(2) to fabd and
 * give it back, on the ringing thread alone (the other threads keep the developer's ids meanwhile);
 * {@link #flipLock} also keeps those instants apart from the start of a build command, so no command
 * ever starts as fabsys. No process keeps root.
 */
final class Credentials {
    static final String DEFAULT_SYSTEM_USER = "fabsys";

    private final Accounts.User fabsys;
    private final Accounts.User developer;
    private final List<Integer> developerGroups;
    /** Read: starting a command. Write: faba's effective uid is not the developer's. */
    final ReentrantReadWriteLock flipLock = new ReentrantReadWriteLock();

    private Credentials(Accounts.User fabsys, Accounts.User developer, List<Integer> developerGroups) {
        this.fabsys = fabsys;
        this.developer = developer;
        this.developerGroups = developerGroups;
    }

    static Credentials forChild(DaemonOptions options) {
        String user = options.get("--user");
        if (user == null) {
            return new Credentials(null, null, List.of());
        }
        String[] ids = user.split(":");
        int uid = Integer.parseInt(ids[0]);
        int gid = Integer.parseInt(ids[1]);
        Accounts accounts = Accounts.system();
        Accounts.User fabsys = systemUser(accounts);
        Accounts.User developer = accounts.user(uid).orElse(new Accounts.User(Integer.toString(uid), uid, gid));
        return new Credentials(fabsys, new Accounts.User(developer.name(), uid, gid), accounts.groupsOf(new Accounts.User(developer.name(), uid, gid)));
    }

    /** The fabsys account, or FABPERMS saying how to create it. */
    static Accounts.User systemUser(Accounts accounts) {
        String name = System.getenv().getOrDefault("FAB_SYSTEM_USER", DEFAULT_SYSTEM_USER);
        return accounts.user(name).orElseThrow(() -> new FabException(ExitStatus.FABPERMS,
                "the credential model needs a user " + name + " for fabd, and there is none: create it "
                        + "(useradd --system --user-group --no-create-home " + name + "), or run fab without the system service"));
    }

    boolean model() {
        return developer != null;
    }

    int fabsysUid() {
        return fabsys.uid();
    }

    int fabsysGid() {
        return fabsys.gid();
    }

    int developerUid() {
        return developer.uid();
    }

    /** Whose files fabd reads in faba's directory and the project (faba's out, err, exit, changes; depfiles): the developer's, or anyone's as one user. */
    int fabaFileOwner() {
        return model() ? developer.uid() : -1;
    }

    /**
     * Mode of each {@code bp/<stage>/}: fabd alone writes there, faba reads, so the developer can neither
     * replace a stage nor plant a link where fabd will write. Inside faba's gate (its pid directory, which
     * only fabsys and the developer's group may enter) the bits for others reach faba alone; group bits
     * would not do, since fabsys is not in the developer's group and so cannot give a directory it makes
     * that group (the kernel clears setgid when fabsys chmods one).
     */
    int stageDirMode() {
        return model() ? 0755 : 0700;
    }

    /**
     * Mode of each {@code bp/<stage>/<n>/}: fabd writes {@code cmd} and {@code prod}, faba writes
     * {@code out}, {@code err} and {@code exit}; sticky, so neither replaces the other's files (inside the gate, as above).
     */
    int commandDirMode() {
        return model() ? 01777 : 0700;
    }

    String innerFileMode() {
        return model() ? "rw-r--r--" : "rw-------";
    }

    /** fabw of fabd becomes fabsys before starting fabd, which inherits it. */
    void beforeStart(String child) {
        if (model() && "fabd".equals(child)) {
            become(fabsys.uid(), fabsys.gid(), fabsys.uid(), fabsys.gid(), List.of(fabsys.gid()));
        }
    }

    /** fabw of faba started faba as root (faba sets its own three ids); now it becomes the developer for good. */
    void afterStart(String child) {
        if (model() && "faba".equals(child)) {
            become(developer.uid(), developer.gid(), developer.uid(), developer.gid(), developerGroups);
        }
    }

    /**
     * faba, still root: its own directory made fabsys's with the developer's group, setgid and sticky
     * (3770, the gate), and {@code bp/} fabsys's (2750), so that only fabsys and the developer get in, the
     * developer's files there are theirs, and the developer can replace nothing fabd reads or writes
     * ({@code bp} and what fabd puts under it); then real and effective ids of the developer with fabsys
     * saved. Done on the main thread before any thread of ours runs a command; glibc applies it to every
     * JVM thread. The modes are set through descriptors: root follows no link in {@code pid/}.
     */
    void becomeFaba(PidDirectory own) {
        if (!model()) {
            return;
        }
        try (Descriptor dir = Descriptor.openDirectory(own.dir()); Descriptor bp = dir.directory(own.bp().getFileName().toString())) {
            dir.chown(fabsys.uid(), developer.gid());
            dir.chmod(03770);
            bp.chown(fabsys.uid(), developer.gid());
            bp.chmod(02750);
            for (String developers : List.of("watch", own.stamp().getFileName().toString())) {
                dir.chown(developers, developer.uid(), developer.gid());
            }
        }
        become(developer.uid(), developer.gid(), fabsys.uid(), fabsys.gid(), developerGroups);
    }

    private static void become(int uid, int gid, int savedUid, int savedGid, List<Integer> groups) {
        if (Libc.geteuid() != 0) {
            throw new FabException(ExitStatus.FABPERMS, "the credential model needs fabw started as root (uid 0), not uid " + Libc.geteuid()
                    + ": start /opt/fab/bin/fabw --system as root");
        }
        Libc.setgroups(groups);
        Libc.setresgid(gid, gid, savedGid);
        Libc.setresuid(uid, uid, savedUid);
        int[] now = Libc.getresuid();
        if (now[0] != uid || now[1] != uid || now[2] != savedUid) {
            throw new FabException(ExitStatus.FABPERMS, "setresuid left uids " + now[0] + "/" + now[1] + "/" + now[2]);
        }
    }

    /**
     * Rings fabd: with effective uid fabsys (faba's saved uid) so the kernel lets faba signal it, for the
     * instant of the kill(2) and on the ringing thread only ({@link Libc#killAsEffectiveUid}); never while a
     * command starts, whose start holds the read side of {@link #flipLock}.
     */
    boolean ringAsFabsys(Doorbell bell, String who, int pid, Message m) {
        if (!model()) {
            return bell.ring(who, pid, m);
        }
        flipLock.writeLock().lock();
        try {
            return bell.ring(who, pid, m, (target, signal) -> Libc.killAsEffectiveUid(fabsys.uid(), developer.uid(), target, signal));
        } finally {
            flipLock.writeLock().unlock();
        }
    }

    static void chown(Path path, int uid, int gid) {
        try {
            Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot chown " + path, e);
        }
    }
}
