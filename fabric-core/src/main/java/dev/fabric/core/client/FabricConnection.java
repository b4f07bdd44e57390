package dev.fabric.core.client;

import dev.fabric.core.registry.Ids;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What an application needs to find its fabric again after it failed over itself: the registry's address, the directory of the fabric keys,
 * and the session ids it works with. The keys themselves stay in their directory (0600); this file
 * only says where they are, so it holds no secret, but it is written 0600 too: whoever could change
 * it could point the application at another registry or other keys.
 *
 * <p>On disk it is a small JSON document:
 * <pre>{"registryUrl": "http://127.0.0.1:8470", "keyDirectory": "/home/me/.fabric/keys", "sessions": ["s-1"]}</pre>
 *
 * @param registryUrl the registry, e.g. {@code http://127.0.0.1:8470}
 * @param keyDirectory the fabric key directory ({@code fabric.key}, {@code fabric.pub})
 * @param sessions the session ids, in the order they were added, without duplicates
 */
public record FabricConnection(URI registryUrl, Path keyDirectory, List<String> sessions) {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public FabricConnection {
        Objects.requireNonNull(registryUrl, "registryUrl");
        Objects.requireNonNull(keyDirectory, "keyDirectory");
        List<String> checked = new ArrayList<>(new LinkedHashSet<>(sessions == null ? List.of() : sessions));
        for (String session : checked) {
            if (session == null || !session.matches(Ids.PATTERN)) {
                throw new IllegalArgumentException("session id '" + session + "' " + Ids.MESSAGE);
            }
        }
        sessions = List.copyOf(checked);
    }

    /** The same connection with one more session id (unchanged when it is there already). */
    public FabricConnection withSession(String session) {
        List<String> more = new ArrayList<>(sessions);
        more.add(session);
        return new FabricConnection(registryUrl, keyDirectory, more);
    }

    /** The same connection without that session id. */
    public FabricConnection withoutSession(String session) {
        List<String> fewer = new ArrayList<>(sessions);
        fewer.remove(session);
        return new FabricConnection(registryUrl, keyDirectory, fewer);
    }

    /**
     * Writes the file: created with mode 0600 from the moment it exists, replacing an older one
     * atomically, so a crash mid-write leaves the previous state, never half a file.
     *
     * @throws UncheckedIOException when the file cannot be written
     */
    public void save(Path file) {
        Path absolute = file.toAbsolutePath();
        Path temp = absolute.resolveSibling("." + absolute.getFileName() + ".tmp");
        try {
            Files.createDirectories(absolute.getParent());
            Files.deleteIfExists(temp);
            try {
                Files.createFile(temp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                throw new IOException("another writer is writing " + temp, e);
            }
            // createFile honours the umask; set the mode explicitly as well.
            Files.setPosixFilePermissions(temp, OWNER_ONLY);
            Files.write(temp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(new Stored(
                    registryUrl.toString(), keyDirectory.toAbsolutePath().toString(), sessions)));
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the fabric connection file " + absolute + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a file {@link #save} wrote. It must be writable by its owner only, as {@code save}
     * leaves it, since it decides which registry and which keys the application trusts.
     *
     * @throws IllegalStateException when the file is missing, unsafe or not a connection file; the
     *                               message says which and what to do
     */
    public static FabricConnection load(Path file) {
        Path absolute = file.toAbsolutePath();
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(absolute);
            if (mode.stream().anyMatch(p -> !p.name().startsWith("OWNER_"))) {
                throw new IllegalStateException("the fabric connection file " + absolute + " is open to others (mode "
                        + PosixFilePermissions.toString(mode) + "); run: chmod 600 " + absolute);
            }
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("no fabric connection file at " + absolute
                    + ": save one with FabricConnection.save when the application first connects", e);
        } catch (UnsupportedOperationException notPosix) {
            // Not a POSIX file system: nothing to check.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot inspect " + absolute + ": " + e.getMessage(), e);
        }
        try {
            Stored stored = JSON.readValue(Files.readAllBytes(absolute), Stored.class);
            if (stored.registryUrl() == null || stored.keyDirectory() == null) {
                throw new IllegalStateException("the fabric connection file " + absolute + " lacks "
                        + (stored.registryUrl() == null ? "registryUrl" : "keyDirectory"));
            }
            return new FabricConnection(URI.create(stored.registryUrl()), Path.of(stored.keyDirectory()), stored.sessions());
        } catch (JacksonException | IllegalArgumentException e) {
            throw new IllegalStateException("the fabric connection file " + absolute + " is not readable as one: "
                    + (e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage()), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the fabric connection file " + absolute + ": " + e.getMessage(), e);
        }
    }

    /** The file's JSON shape: plain strings, so the format does not depend on how Jackson writes a URI or a Path. */
    record Stored(String registryUrl, String keyDirectory, List<String> sessions) {}
}
