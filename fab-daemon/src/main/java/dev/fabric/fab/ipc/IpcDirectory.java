package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A project's IPC directory, {@code <fabipcdir>/<hash of the canonical initial fabfile path>}, laid out
 * as fab's IPC specification has it (docs/fab.md, "Directories and modes"):
 * <pre>
 * fabd/{pgid,exit,error,lock}   fabd's process group (ascii), last exit and error (binary), its lock
 * fabd/faba                     faba's pid (ascii), written by faba before it drops root: whom fabd and fab ring
 * fab/{cwd,pid,out,err,lock}    the waiting client: links to its directory and terminal, its pid, the one-client lock
 * fab/env                       the client's environment and umask (binary, {@link IpcRecord.Environment}; the developer's alone)
 * dsc -> fabd's dsc directory   bp -> faba's bp directory
 * logs                          what the daemons say to the client (tagged ascii lines, see {@link LogLine})
 * fabfile -> the initial fabfile
 * args                          the command (binary, {@link IpcRecord.Args})
 * </pre>
 */
public record IpcDirectory(Path dir) {

    /** The project directory under {@code roots} for the canonical path of the initial fabfile. */
    public static IpcDirectory of(IpcRoots roots, Path canonicalFabfile) {
        return new IpcDirectory(roots.ipc().resolve(hash(canonicalFabfile)));
    }

    /** 16 hex digits of SHA-256 of the path: the original fab used a 32-bit number; 64 bits make collisions unlikely. */
    public static String hash(Path canonicalFabfile) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonicalFabfile.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path fabdDir() { return dir.resolve("fabd"); }
    public Path pgid() { return dir.resolve("fabd/pgid"); }
    public Path exit() { return dir.resolve("fabd/exit"); }
    public Path error() { return dir.resolve("fabd/error"); }
    public Path fabdLock() { return dir.resolve("fabd/lock"); }
    public Path faba() { return dir.resolve("fabd/faba"); }
    public Path fabDir() { return dir.resolve("fab"); }
    public Path cwd() { return dir.resolve("fab/cwd"); }
    public Path pid() { return dir.resolve("fab/pid"); }
    public Path out() { return dir.resolve("fab/out"); }
    public Path err() { return dir.resolve("fab/err"); }
    public Path fabLock() { return dir.resolve("fab/lock"); }
    public Path env() { return dir.resolve("fab/env"); }
    public Path dsc() { return dir.resolve("dsc"); }
    public Path bp() { return dir.resolve("bp"); }
    public Path logs() { return dir.resolve("logs"); }
    public Path fabfile() { return dir.resolve("fabfile"); }
    public Path args() { return dir.resolve("args"); }

    /**
     * Creates the layout for one user (no credential model): every directory {@code rwx------} and
     * every file {@code rw-------}, so nobody else can read the commands or write the args. Checks
     * that an existing directory is ours first.
     */
    public IpcDirectory createPrivate(Path canonicalFabfile) {
        IpcFiles.mkdir(dir.getParent(), "rwx------");
        ownedByMe(dir.getParent());
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            ownedByMe(dir);
        }
        IpcFiles.mkdir(dir, "rwx------");
        IpcFiles.mkdir(fabdDir(), "rwx------");
        IpcFiles.mkdir(fabDir(), "rwx------");
        IpcFiles.touch(fabdLock(), "rw-------");
        IpcFiles.touch(fabLock(), "rw-------");
        IpcFiles.touch(logs(), "rw-------");
        IpcFiles.link(fabfile(), canonicalFabfile);
        return this;
    }

    /** A daemon's check of the directory it was started for: it must exist, be a directory and be laid out. */
    public IpcDirectory requireLaidOut() {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !Files.isDirectory(fabdDir()) || !Files.isDirectory(fabDir())) {
            throw new FabException(ExitStatus.BADIPC, "IPC directory " + dir + " is missing or not laid out (fabd/ and fab/ expected): "
                    + "run fab, which creates it, rather than starting a daemon by hand");
        }
        return this;
    }

    /** BADIPC when {@code path} belongs to another user: whoever owns it could feed us commands. */
    public static void ownedByMe(Path path) {
        try {
            int owner = (int) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != Libc.geteuid()) {
                throw new FabException(ExitStatus.BADIPC, "IPC directory " + path + " belongs to uid " + owner + ", not to you (uid "
                        + Libc.geteuid() + "): another user's fab uses it; set FAB_IPC_DIR (or --ipc-dir) to a directory of yours, "
                        + "or remove it if it is stale");
            }
        } catch (IOException e) {
            throw new FabException(ExitStatus.BADIPC, "IPC directory " + path + " cannot be read: " + e.getMessage());
        }
    }

    /** The pid the per-process link points into ({@code <fabtmpdir>/pid/<pid>/...}), or 0. */
    public static int linkedPid(Path link) {
        try {
            Path target = Files.readSymbolicLink(link);
            return Integer.parseInt(target.getParent().getFileName().toString());
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** fabd's process group (its pid: fabd leads its own group), or 0 when it has not published one. */
    public int fabdPid() {
        try {
            return Integer.parseInt(Files.readString(pgid()).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** The waiting client's pid, or 0. */
    public int fabPid() {
        try {
            return Integer.parseInt(Files.readString(pid()).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /**
     * faba's pid, from {@code fabd/faba}, or 0. Not from the {@code bp} link, which belongs to the
     * developer: a developer who pointed it at another developer's faba would have fabd hand that faba
     * their commands. {@code fabd/} is writable by fabd's user alone, and faba writes the record while
     * it is still root (in one-user mode, as the one user).
     */
    public int fabaPid() {
        try {
            return Integer.parseInt(Files.readString(faba()).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    public void writeAscii(Path file, String text, String mode) {
        IpcFiles.replace(file, text.getBytes(StandardCharsets.US_ASCII), mode);
    }

    public <T extends IpcRecord> T read(Class<T> type, Path file) {
        byte[] b = IpcFiles.readOrNull(file);
        return b == null ? null : IpcCodec.decode(type, b, file.toString());
    }

    public static void check(boolean condition, String message) {
        if (!condition) {
            throw new UncheckedIOException(new IOException(message));
        }
    }
}
