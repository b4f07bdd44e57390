package dev.fabric.escrow.testing;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.daemon.EscrowdConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** Starts an in-process escrowd on {@code dir/usock} with a short shutdown grace. */
public final class TestDaemon {

    private TestDaemon() {
    }

    public static EscrowdConfig config(Path dir) {
        return EscrowdConfig.of(dir.resolve("usock")).withNrTags(8).withShutdownGrace(Duration.ofMillis(200));
    }

    public static Escrowd start(Path dir) throws IOException {
        return Escrowd.start(config(dir));
    }
}
