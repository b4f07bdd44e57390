package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the IPC directories live: {@code <fabipcdir>} (per project, default {@code /var/run/fab}) and
 * {@code <fabtmpdir>} (per process, default {@code /var/tmp/fab}). {@code --ipc-dir}/{@code --tmp-dir}
 * win over {@code FAB_IPC_DIR}/{@code FAB_TMP_DIR}, which win over the defaults. When a default is not
 * writable (a laptop user without rights on /var/run), each falls back to a per-user directory,
 * {@code /tmp/fab-<uid>/run} and {@code /tmp/fab-<uid>/tmp}; a configured directory never falls back.
 * {@code /tmp} is everybody's, so {@code /tmp/fab-<uid>} is used only when its owner made it: it is
 * created 0700 when missing, and one that is another user's, a link, or writable by others is BADIPC
 * (someone else could have planted a socket or a project directory there).
 */
public record IpcRoots(Path ipc, Path tmp) {
    public static final Path DEFAULT_IPC = Path.of("/var/run/fab");
    public static final Path DEFAULT_TMP = Path.of("/var/tmp/fab");
    private static final Path SHARED_TMP = Path.of("/tmp");

    /** The roots from options (null when not given) and the environment. */
    public static IpcRoots resolve(Path ipcOption, Path tmpOption, Map<String, String> env) {
        return resolve(ipcOption, tmpOption, env, DEFAULT_IPC, DEFAULT_TMP, SHARED_TMP);
    }

    /** As {@link #resolve(Path, Path, Map)}, with the defaults and the parent of the fallback given (tests). */
    static IpcRoots resolve(Path ipcOption, Path tmpOption, Map<String, String> env, Path defaultIpc, Path defaultTmp, Path sharedTmp) {
        Path ipc = ipcOption != null ? ipcOption : env.get("FAB_IPC_DIR") != null ? Path.of(env.get("FAB_IPC_DIR")) : null;
        Path tmp = tmpOption != null ? tmpOption : env.get("FAB_TMP_DIR") != null ? Path.of(env.get("FAB_TMP_DIR")) : null;
        if (ipc == null) {
            ipc = usable(defaultIpc) ? defaultIpc : fallback(sharedTmp).resolve("run");
        }
        if (tmp == null) {
            tmp = usable(defaultTmp) ? defaultTmp : fallback(sharedTmp).resolve("tmp");
        }
        return new IpcRoots(ipc.toAbsolutePath().normalize(), tmp.toAbsolutePath().normalize());
    }

    /** The default is ours when it exists and we may write it, or when we may create it. */
    private static boolean usable(Path dir) {
        if (Files.isDirectory(dir)) {
            return Files.isWritable(dir) || Files.exists(dir.resolve(SystemSocket.NAME));
        }
        Path parent = dir.getParent();
        return parent != null && Files.isDirectory(parent) && Files.isWritable(parent);
    }

    /**
     * {@code <sharedTmp>/fab-<uid>}, created {@code rwx------} when missing (mkdir is atomic: whoever
     * makes it owns it); BADIPC when it is not a directory of this user's that only this user may write.
     */
    static Path fallback(Path sharedTmp) {
        int uid = Libc.getuid();
        Path dir = sharedTmp.resolve("fab-" + uid);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException exists) {
            // Checked below: made by us on an earlier run, or planted by someone else.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create fab's per-user directory " + dir, e);
        }
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new FabException(ExitStatus.BADIPC, "fab's per-user directory " + dir + " cannot be read: " + e.getMessage());
        }
        int owner;
        try {
            owner = (int) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new FabException(ExitStatus.BADIPC, "fab's per-user directory " + dir + " cannot be read: " + e.getMessage());
        }
        Set<PosixFilePermission> p = a.permissions();
        String wrong = !a.isDirectory() ? (a.isSymbolicLink() ? "a symbolic link" : "not a directory")
                : owner != uid ? "owned by uid " + owner
                : p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE) ? "writable by others ("
                        + PosixFilePermissions.toString(p) + ")"
                : null;
        if (wrong != null) {
            throw new FabException(ExitStatus.BADIPC, "fab's per-user directory " + dir + " is " + wrong + ", so another user may have "
                    + "planted what fab would talk to there: remove it (fab creates it afresh, rwx------, owned by uid " + uid + "), "
                    + "or set FAB_IPC_DIR and FAB_TMP_DIR (or --ipc-dir and --tmp-dir) to directories of yours");
        }
        return dir;
    }

    /** The options a daemon needs to find the same roots. */
    public List<String> options() {
        return List.of("--ipc-dir", ipc.toString(), "--tmp-dir", tmp.toString());
    }
}
