package dev.fabric.spawner.launch.ssh;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A Java runtime to stage on a host that has none (the "a Java 25 runtime there, configured
 * path, or staged too"): a directory with {@code bin/java} (by default the one this node runs on,
 * {@code java.home}), packed once into a tar file, named by its SHA-256 like the distribution, which
 * the SSH launcher copies by SFTP, checks, and unpacks on the host.
 */
final class JavaRuntime {

    private final Path home;
    private final Path tar;
    private final String checksum;

    private JavaRuntime(Path home, Path tar, String checksum) {
        this.home = home;
        this.tar = tar;
        this.checksum = checksum;
    }

    /**
     * Packs {@code home} (regular files with their permissions, symbolic links as links) into a
     * temporary tar file, deleted when the JVM exits.
     *
     * @throws IllegalStateException when {@code home} has no {@code bin/java}, or cannot be read
     */
    static JavaRuntime pack(Path home) {
        if (!Files.isExecutable(home.resolve("bin/java"))) {
            throw new IllegalStateException(home + " is no Java runtime: it has no executable bin/java");
        }
        try {
            Path tar = Files.createTempFile("fabric-java-runtime-", ".tar");
            tar.toFile().deleteOnExit();
            try (OutputStream out = Files.newOutputStream(tar); TarArchiveOutputStream archive = new TarArchiveOutputStream(out);
                 Stream<Path> walk = Files.walk(home)) {
                archive.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                archive.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                for (Path file : walk.sorted().toList()) {
                    String name = home.relativize(file).toString();
                    if (name.isEmpty()) {
                        continue;
                    }
                    if (Files.isSymbolicLink(file)) {
                        TarArchiveEntry link = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                        link.setLinkName(Files.readSymbolicLink(file).toString());
                        archive.putArchiveEntry(link);
                        archive.closeArchiveEntry();
                    } else if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                        TarArchiveEntry directory = new TarArchiveEntry(name + "/");
                        directory.setMode(0755);
                        directory.setModTime(Files.getLastModifiedTime(file).toMillis());
                        archive.putArchiveEntry(directory);
                        archive.closeArchiveEntry();
                    } else if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                        // Name, size, mode and modification time only: the same runtime packs to the same bytes (and SHA-256).
                        TarArchiveEntry entry = new TarArchiveEntry(name);
                        entry.setSize(Files.size(file));
                        entry.setMode(mode(Files.getPosixFilePermissions(file)));
                        entry.setModTime(Files.getLastModifiedTime(file).toMillis());
                        archive.putArchiveEntry(entry);
                        Files.copy(file, archive);
                        archive.closeArchiveEntry();
                    }
                }
                archive.finish();
            }
            return new JavaRuntime(home, tar, Staging.sha256(tar));
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot pack the Java runtime " + home + " to stage it: " + e.getMessage(), e);
        }
    }

    Path home() {
        return home;
    }

    Path tar() {
        return tar;
    }

    String checksum() {
        return checksum;
    }

    /** The runtime's directory on every host, under {@code <directory>/jdk/}: named by its content. */
    String directoryName() {
        return "runtime-" + checksum.substring(0, 16);
    }

    private static int mode(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission permission : List.of(PosixFilePermission.values())) {
            if (permissions.contains(permission)) {
                mode |= 1 << (8 - permission.ordinal());
            }
        }
        return mode;
    }
}
