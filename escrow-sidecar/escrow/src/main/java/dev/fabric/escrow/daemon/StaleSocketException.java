package dev.fabric.escrow.daemon;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A socket file is at the path, nobody listens on it, and the daemon was not told to replace it
 * ({@link EscrowdConfig#force()} off): most likely left by an escrowd that died. The message says
 * what is there, not how to replace it: that depends on who started the engine ({@code escrowd -f},
 * a client's {@code FORCE}, the sidecar's {@code FABRIC_ESCROW_FORCE=true}).
 */
public final class StaleSocketException extends IOException {

    private final Path path;

    public StaleSocketException(Path path) {
        super(path + " exists and nobody listens on it (a stale socket of an escrowd that died?)");
        this.path = path;
    }

    public Path path() {
        return path;
    }
}
