package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcRoots;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of fabw, fabd and faba (started by fab, fabw or the system service, not by
 * people): {@code --project DIR --ipc-dir DIR --tmp-dir DIR}, and for fabw {@code --child fabd|faba}
 * or {@code --system}; in the credential model {@code --user UID:GID} (faba's developer).
 */
record DaemonOptions(Map<String, String> values, List<String> argv) {

    static DaemonOptions parse(String[] argv, String... flags) {
        Map<String, String> values = new HashMap<>();
        List<String> flagList = List.of(flags);
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (flagList.contains(a)) {
                values.put(a, "true");
            } else if (a.startsWith("--") && i + 1 < argv.length) {
                values.put(a, argv[++i]);
            } else {
                throw new FabException(ExitStatus.BADARGS, "unexpected argument " + a + "; these daemons are started by fab (docs/fab.md)");
            }
        }
        return new DaemonOptions(values, List.of(argv));
    }

    String get(String name) {
        return values.get(name);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    IpcRoots roots() {
        String ipc = values.get("--ipc-dir");
        String tmp = values.get("--tmp-dir");
        return IpcRoots.resolve(ipc == null ? null : Path.of(ipc), tmp == null ? null : Path.of(tmp), System.getenv());
    }

    IpcDirectory project() {
        String p = values.get("--project");
        if (p == null) {
            throw new FabException(ExitStatus.BADARGS, "--project DIR is required");
        }
        return new IpcDirectory(Path.of(p)).requireLaidOut();
    }

    /** The options to hand on to a child daemon. */
    List<String> forChild() {
        List<String> out = new ArrayList<>();
        for (String k : List.of("--project", "--ipc-dir", "--tmp-dir", "--user")) {
            if (values.containsKey(k)) {
                out.add(k);
                out.add(values.get(k));
            }
        }
        return out;
    }
}
