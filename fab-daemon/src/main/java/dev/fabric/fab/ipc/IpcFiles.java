package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.posix.Descriptor;
import dev.fabric.posix.PosixException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Small file operations every process of the IPC uses: whole-file replacement, links, modes, reads
 * and removal. In the credential model fabd (fabsys) and the root service work in directories a
 * developer may also write, so nothing here writes or removes through a link someone else placed:
 * temporary files are created exclusively, trees are removed through directory descriptors, and
 * {@link #readOwned} reads only a regular file of the expected owner.
 */
public final class IpcFiles {
    private IpcFiles() {
    }

    /** Replaces {@code file} at once (a temporary sibling renamed over it): a reader sees the old or the new bytes, never half. */
    public static void replace(Path file, byte[] bytes, String mode) {
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            // Created afresh (O_EXCL): a leftover or a link planted under the temporary name is removed, never written through.
            Files.deleteIfExists(tmp);
            Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
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

    /**
     * The bytes of {@code file}, or null when it does not exist; BADIPC when it is not a regular file
     * (a link, a FIFO) or, with {@code owner} at 0 or above, belongs to another uid. The file is opened
     * without following a link and checked through the open descriptor, so what is read is what was
     * checked: fabd reads faba's {@code out}, {@code err}, {@code exit} and {@code changes} this way,
     * which the developer could otherwise point at any file fabsys may read.
     */
    public static byte[] readOwned(Path file, int owner) {
        Descriptor.Contents c;
        try {
            c = Descriptor.read(file);
        } catch (PosixException e) {
            if (e.errno() == Descriptor.ENOENT) {
                return null;
            }
            if (e.errno() == Descriptor.ELOOP) {
                throw new FabException(ExitStatus.BADIPC, file + " is a symbolic link, not a file faba wrote: not read; run fab again");
            }
            throw new UncheckedIOException("cannot read " + file, new IOException(e.getMessage()));
        }
        if (c.bytes() == null || (owner >= 0 && c.stat().uid() != owner)) {
            throw new FabException(ExitStatus.BADIPC, file + " is not a regular file of uid " + owner + " (it is "
                    + (c.bytes() == null ? "not a regular file" : "uid " + c.stat().uid() + "'s") + "): faba did not write it; not read; run fab again");
        }
        return c.bytes();
    }

    /**
     * Removes a directory tree; entries that vanish meanwhile are fine. Every step goes through the
     * descriptor of the directory above it ({@link SecureDirectoryStream}: openat with O_NOFOLLOW,
     * fstatat, unlinkat), never through a path: whoever can write inside the tree may swap a directory
     * for a link while this runs, and then removes the link, not what it points at. {@code dir}'s own
     * parent must be trusted (root's or fabsys's {@code pid/}, fabd's own directory).
     */
    public static void removeTree(Path dir) {
        Path absolute = dir.toAbsolutePath();
        try (DirectoryStream<Path> parent = Files.newDirectoryStream(absolute.getParent())) {
            if (!(parent instanceof SecureDirectoryStream<Path> secure)) {
                throw new UnsupportedOperationException("this platform offers no SecureDirectoryStream: refusing to remove " + dir + " by path");
            }
            remove(secure, absolute.getFileName(), absolute);
        } catch (NoSuchFileException gone) {
            // Nothing to remove.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }

    private static void remove(SecureDirectoryStream<Path> parent, Path entry, Path shown) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = parent.getFileAttributeView(entry, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
        } catch (NoSuchFileException gone) {
            return;
        }
        if (attributes.isDirectory()) {
            List<Path> names = new ArrayList<>();
            try (SecureDirectoryStream<Path> child = parent.newDirectoryStream(entry, LinkOption.NOFOLLOW_LINKS)) {
                child.forEach(p -> names.add(p.getFileName()));
                for (Path name : names) {
                    remove(child, name, shown.resolve(name));
                }
            } catch (NoSuchFileException gone) {
                return;
            } catch (FileSystemException swapped) {
                // Replaced by a link or a file since the look above (ELOOP, ENOTDIR): removed as the entry it now is.
                unlink(parent, entry, false);
                return;
            }
            unlink(parent, entry, true);
        } else {
            unlink(parent, entry, false);
        }
    }

    private static void unlink(SecureDirectoryStream<Path> parent, Path entry, boolean directory) throws IOException {
        try {
            if (directory) {
                parent.deleteDirectory(entry);
            } else {
                parent.deleteFile(entry);
            }
        } catch (NoSuchFileException gone) {
            // Removed meanwhile.
        } catch (FileSystemException notWhatItWas) {
            if (!directory) {
                throw notWhatItWas;
            }
            // Swapped for a link or a file after its entries were removed: the entry itself goes, never its target.
            parent.deleteFile(entry);
        }
    }
}
