package dev.fabric.fab.ipc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Small file operations every process of the IPC uses: whole-file replacement, links, modes. */
public final class IpcFiles {
    private IpcFiles() {
    }

    /** Replaces {@code file} at once (a temporary sibling renamed over it): a reader sees the old or the new bytes, never half. */
    public static void replace(Path file, byte[] bytes, String mode) {
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.write(tmp, bytes);
            chmod(tmp, mode);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Points the symbolic link {@code link} at {@code target}, replacing what was there at once. */
    public static void link(Path link, Path target) {
        Path tmp = link.resolveSibling("." + link.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, target);
            Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link " + link + " to " + target, e);
        }
    }

    /** The bytes of {@code file}, or null when it does not exist. */
    public static byte[] readOrNull(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Creates a directory (or keeps an existing one) with exactly {@code mode}, whatever the umask. */
    public static Path mkdir(Path dir, String mode) {
        try {
            try {
                Files.createDirectory(dir);
            } catch (FileAlreadyExistsException exists) {
                if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw exists;
                }
            }
            chmod(dir, mode);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create directory " + dir, e);
        }
    }

    /** An empty file with {@code mode}, kept when it exists. */
    public static Path touch(Path file, String mode) {
        try {
            if (!Files.exists(file)) {
                Files.write(file, new byte[0]);
            }
            chmod(file, mode);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file, e);
        }
    }

    /** {@code mode} as nine rwx letters, e.g. {@code rwx------}. */
    public static void chmod(Path path, String mode) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
    }

    /** Removes a directory tree; entries that vanish meanwhile are fine. */
    public static void removeTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
        }
    }
}
