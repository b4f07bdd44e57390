package dev.fabric.fab.cli;

import dev.fabric.fab.daemon.Pairs;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.posix.Libc;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code fab --list-daemons}: one line per project under the IPC root whose daemons run, with its
 * fabfile, fabd's and faba's pids and ages, and the resident memory of the four processes (each
 * daemon and its fabw, VmRSS from /proc); {@code no daemons running} when none do. Exit 0.
 */
final class DaemonList {
    private DaemonList() {
    }

    static int print(IpcRoots roots, PrintStream out) {
        List<Path> projects;
        try (Stream<Path> s = Files.list(roots.ipc())) {
            projects = s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        } catch (IOException e) {
            projects = List.of();
        }
        int listed = 0;
        for (Path dir : projects) {
            IpcDirectory ipc = new IpcDirectory(dir);
            Pairs pairs = new Pairs(roots, ipc, m -> { });
            List<String> parts = new ArrayList<>();
            long rss = 0;
            try {
                if (Files.isRegularFile(ipc.fabdLock()) && pairs.fabdPairRunning() && Libc.alive(ipc.fabdPid())) {
                    parts.add("fabd " + ipc.fabdPid() + " up " + age(ipc.fabdPid()));
                    rss += withWatcher(ipc.fabdPid());
                }
            } catch (RuntimeException unreadable) {
                // Another developer's project, or one going away: not listed.
            }
            if (pairs.fabaRunning()) {
                parts.add("faba " + ipc.fabaPid() + " up " + age(ipc.fabaPid()));
                rss += withWatcher(ipc.fabaPid());
            }
            if (parts.isEmpty()) {
                continue;
            }
            String fabfile;
            try {
                fabfile = Files.readSymbolicLink(ipc.fabfile()).toString();
            } catch (IOException e) {
                fabfile = dir.toString();
            }
            out.println(fabfile + "  " + String.join(", ", parts) + ", " + (rss + 512) / 1024 + " MiB resident");
            listed++;
        }
        if (listed == 0) {
            out.println("fab: no daemons running under " + roots.ipc());
        }
        return 0;
    }

    /** The resident KiB of {@code pid} and of its parent, its fabw. */
    private static long withWatcher(int pid) {
        long parent = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(0L);
        return rssKib(pid) + (parent > 1 ? rssKib(parent) : 0);
    }

    private static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone meanwhile.
        }
        return 0;
    }

    private static String age(int pid) {
        Duration d = ProcessHandle.of(pid).flatMap(h -> h.info().startInstant()).map(t -> Duration.between(t, Instant.now())).orElse(Duration.ZERO);
        long s = d.toSeconds();
        return s >= 3600 ? s / 3600 + "h" + String.format("%02dm", s % 3600 / 60) : s >= 60 ? s / 60 + "m" + String.format("%02ds", s % 60) : s + "s";
    }
}
