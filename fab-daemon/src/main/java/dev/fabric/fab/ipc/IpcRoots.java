package dev.fabric.fab.ipc;

import dev.fabric.fab.posix.Libc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the IPC directories live: {@code <fabipcdir>} (per project, default {@code /var/run/fab}) and
 * {@code <fabtmpdir>} (per process, default {@code /var/tmp/fab}). {@code --ipc-dir}/{@code --tmp-dir}
 * win over {@code FAB_IPC_DIR}/{@code FAB_TMP_DIR}, which win over the defaults. When a default is not
 * writable (a laptop user without rights on /var/run), each falls back to a per-user directory,
 * {@code /tmp/fab-<uid>/run} and {@code /tmp/fab-<uid>/tmp}; a configured directory never falls back.
 */
public record IpcRoots(Path ipc, Path tmp) {
    public static final Path DEFAULT_IPC = Path.of("/var/run/fab");
    public static final Path DEFAULT_TMP = Path.of("/var/tmp/fab");

    /** The roots from options (null when not given) and the environment. */
    public static IpcRoots resolve(Path ipcOption, Path tmpOption, Map<String, String> env) {
        Path ipc = ipcOption != null ? ipcOption : env.get("FAB_IPC_DIR") != null ? Path.of(env.get("FAB_IPC_DIR")) : null;
        Path tmp = tmpOption != null ? tmpOption : env.get("FAB_TMP_DIR") != null ? Path.of(env.get("FAB_TMP_DIR")) : null;
        Path fallback = Path.of("/tmp", "fab-" + Libc.getuid());
        if (ipc == null) {
            ipc = usable(DEFAULT_IPC) ? DEFAULT_IPC : fallback.resolve("run");
        }
        if (tmp == null) {
            tmp = usable(DEFAULT_TMP) ? DEFAULT_TMP : fallback.resolve("tmp");
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

    /** The options a daemon needs to find the same roots. */
    public java.util.List<String> options() {
        return java.util.List.of("--ipc-dir", ipc.toString(), "--tmp-dir", tmp.toString());
    }
}
