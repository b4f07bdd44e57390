package dev.fabric.fab.watch;

import dev.fabric.fab.ipc.Message;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * faba's watch over a project: every directory under the root (but {@code .fab} and {@code .git})
 * registered with one {@link WatchService} (inotify on Linux), new directories registered as they
 * appear, an overflow answered by registering everything again and asking fabd for a full look.
 * Each change is appended to the {@code changes} file ({@link ChangesFile}: {@code M}/{@code C}/{@code D}
 * and the absolute path, NUL-terminated; {@code *} for "look at everything"), then one of the three
 * file-system messages rings fabd:
 * REPLAN (contents changed), REINTERPRET (files appeared or vanished), REEXEC (a fabfile changed).
 */
public final class TreeWatcher {
    private static final Set<String> SKIPPED = Set.of(".fab", ".git");

    private final Path root;
    private final ChangesFile changes;
    private final Path syncDir;
    private final Set<String> fabfileNames;
    private final Consumer<Message> ring;
    private final Consumer<String> log;
    private final WatchService service;
    private final Map<WatchKey, Path> dirs = new HashMap<>();
    private final AtomicLong syncSeen = new AtomicLong();
    private long syncSent;

    /**
     * @param syncDir a directory of faba's own, watched too: {@link #sync} writes a file there and
     *                waits for its event, which inotify delivers after every earlier event
     */
    public TreeWatcher(Path root, Path changes, Path syncDir, Set<String> fabfileNames, Consumer<Message> ring, Consumer<String> log) {
        this.root = root;
        this.syncDir = syncDir;
        this.fabfileNames = fabfileNames;
        this.ring = ring;
        this.log = log;
        try {
            this.service = root.getFileSystem().newWatchService();
            this.changes = new ChangesFile(changes);
            register(syncDir);
            registerTree(root, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + root, e);
        }
    }

    public void start() {
        Thread.ofPlatform().daemon().name("watch").start(this::loop);
    }

    /**
     * Returns once every change made before the call is in the {@code changes} file, so that a START
     * relayed after it never plans from stale stamps. On a timeout the watcher asks for a full look.
     *
     * @return the file's end offset then: fabd, reading after the START that follows, reads at least that far
     */
    public synchronized long sync() throws InterruptedException {
        long n = ++syncSent;
        try {
            Files.writeString(syncDir.resolve("sync"), Long.toString(n));
        } catch (IOException e) {
            append("*", "sync failed: " + e.getMessage());
            return changes.end();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (syncSeen.get() < n) {
            if (System.nanoTime() > deadline) {
                append("*", "the watcher did not catch up");
                return changes.end();
            }
            Thread.sleep(2);
        }
        return changes.end();
    }

    /** Drops the entries before {@code offset} from the {@code changes} file: fabd has read them ({@link ChangesFile#drop}). */
    public void drop(long offset) {
        changes.drop(offset);
    }

    private void loop() {
        while (true) {
            WatchKey key;
            try {
                key = service.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            Path dir = dirs.get(key);
            boolean replan = false;
            boolean reinterpret = false;
            boolean reexec = false;
            for (WatchEvent<?> event : key.pollEvents()) {
                if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                    log.accept("faba: the watcher overflowed: registering every directory again");
                    registerTree(root, false);
                    append("*", "overflow");
                    replan = true;
                    continue;
                }
                if (dir == null) {
                    continue;
                }
                Path path = dir.resolve((Path) event.context());
                if (dir.equals(syncDir)) {
                    if (path.getFileName().toString().equals("sync")) {
                        try {
                            syncSeen.set(Long.parseLong(Files.readString(path).trim()));
                        } catch (IOException | NumberFormatException partial) {
                            // The modify event of the same write follows.
                        }
                    }
                    continue;
                }
                if (SKIPPED.contains(path.getFileName().toString())) {
                    continue;
                }
                boolean fabfile = fabfileNames.contains(path.getFileName().toString());
                if (event.kind() == StandardWatchEventKinds.ENTRY_CREATE) {
                    if (Files.isDirectory(path)) {
                        // Files created before the registration took effect are reported by the walk.
                        registerTree(path, true);
                    } else {
                        append("C", path.toString());
                    }
                    reinterpret = true;
                    reexec |= fabfile;
                } else if (event.kind() == StandardWatchEventKinds.ENTRY_DELETE) {
                    forget(path);
                    append("D", path.toString());
                    reinterpret = true;
                    reexec |= fabfile;
                } else {
                    append("M", path.toString());
                    replan = true;
                    reexec |= fabfile;
                }
            }
            if (!key.reset()) {
                dirs.remove(key);
            }
            if (reexec) {
                ring.accept(Message.REEXEC);
            } else {
                if (reinterpret) {
                    ring.accept(Message.REINTERPRET);
                }
                if (replan) {
                    ring.accept(Message.REPLAN);
                }
            }
        }
    }

    private void registerTree(Path start, boolean reportFiles) {
        try {
            Files.walkFileTree(start, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    if (!d.equals(start) && SKIPPED.contains(d.getFileName().toString())) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    register(d);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                    if (reportFiles) {
                        append("C", f.toString());
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            append("*", "cannot watch " + start + ": " + e.getMessage());
        }
    }

    /**
     * Stops watching a directory that vanished or was renamed, and every directory under it. inotify
     * follows a renamed directory, so its old registration would go on naming its files by the old
     * path; when it reappears (renamed back, or under its new name) it is registered afresh.
     */
    private void forget(Path gone) {
        dirs.entrySet().removeIf(e -> {
            if (e.getValue().startsWith(gone)) {
                e.getKey().cancel();
                return true;
            }
            return false;
        });
    }

    private void register(Path dir) throws IOException {
        WatchKey key = dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                StandardWatchEventKinds.ENTRY_MODIFY);
        dirs.put(key, dir);
    }

    private void append(String kind, String path) {
        changes.append(kind, path);
    }
}
