package dev.fabric.fab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the files of a test project. */
public final class Files2 {
    private Files2() {
    }

    /** Writes {@code path=content} pairs under {@code dir}, creating directories. */
    public static void write(Path dir, String... pathsAndContents) {
        try {
            for (int i = 0; i < pathsAndContents.length; i += 2) {
                Path p = dir.resolve(pathsAndContents[i]);
                Files.createDirectories(p.getParent());
                Files.writeString(p, pathsAndContents[i + 1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
