package dev.fabric.fab.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One fab at a time per project: an exclusive lock on {@code <root>/.fab/lock}, so two builds never
 * run the same commands or overwrite each other's state. A second fab says it waits, then runs.
 * This is the in-process fab's lock; the real {@code fab}, a client of the daemons, waits on
 * {@code fab/lock} in the project's IPC directory instead ({@link Client}).
 */
final class ProjectLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private ProjectLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static ProjectLock acquire(Path root, Runnable onWait) {
        try {
            Path file = root.resolve(".fab/lock");
            Files.createDirectories(file.getParent());
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                onWait.run();
                lock = channel.lock();
            }
            return new ProjectLock(channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + root.resolve(".fab/lock"), e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
