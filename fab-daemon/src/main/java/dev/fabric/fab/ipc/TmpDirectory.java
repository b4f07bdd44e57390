package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code <fabtmpdir>}: holds {@code pid/} and nothing else; {@code pid/} holds one directory per
 * running daemon, named by its pid. Anything else is unexpected (exit 2, BADTMP, with the paths), and
 * the directory of a pid that no longer runs is stale and removed.
 */
public final class TmpDirectory {
    private TmpDirectory() {
    }

    /** Creates {@code <fabtmpdir>/pid} when missing ({@code mode} for both), checks it, removes stale entries it may remove. */
    public static void prepare(Path tmp, String mode, Consumer<String> log) {
        if (!Files.isDirectory(tmp)) {
            ensureParent(tmp);
            IpcFiles.mkdir(tmp, mode);
        }
        Path pids = tmp.resolve("pid");
        if (!Files.isDirectory(pids)) {
            IpcFiles.mkdir(pids, mode);
        }
        List<String> unexpected = new ArrayList<>();
        try (Stream<Path> top = Files.list(tmp); Stream<Path> entries = Files.list(pids)) {
            top.filter(p -> !p.getFileName().toString().equals("pid")).forEach(p -> unexpected.add(p.toString()));
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (!name.matches("[1-9][0-9]{0,9}") || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    unexpected.add(p.toString());
                } else if (!Libc.alive(Integer.parseInt(name)) && Files.isWritable(pids)) {
                    try {
                        IpcFiles.removeTree(p);
                        log.accept("removed the stale directory " + p + " (pid " + name + " no longer runs)");
                    } catch (UncheckedIOException notOurs) {
                        // Another user's leftovers: the system service removes those.
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + tmp, e);
        }
        if (!unexpected.isEmpty()) {
            throw new FabException(ExitStatus.BADTMP, "unexpected files in fab's tmp directory " + tmp + ": " + String.join(", ", unexpected)
                    + "; only pid/<pid>/ directories belong there: remove these, or set FAB_TMP_DIR (or --tmp-dir) to another directory");
        }
    }

    private static void ensureParent(Path tmp) {
        try {
            if (tmp.getParent() != null) {
                Files.createDirectories(tmp.getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + tmp.getParent(), e);
        }
    }
}
