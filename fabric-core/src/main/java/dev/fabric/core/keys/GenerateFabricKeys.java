package dev.fabric.core.keys;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a new pair of fabric keys into a directory that holds none, for where no fabric CLI is at
 * hand: an image's build, whose AOT training run of the registry needs keys to build the registry's
 * context ({@code docker/base/aot-cache.sh}, {@code fabric_aot_cache_throwaway_keys}). Run from any
 * jar that holds fabric-core, for example an extracted service jar:
 * {@code java -cp app/registry-service.jar dev.fabric.core.keys.GenerateFabricKeys DIR}. It prints the
 * new pair's key id, never key material.
 */
public final class GenerateFabricKeys {

    private GenerateFabricKeys() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** {@link #main}'s work: 0 when the pair was written, 2 for a wrong command line, 1 when it could not be written. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 1 || args[0].isBlank()) {
            err.println("usage: java -cp <jar with fabric-core> " + GenerateFabricKeys.class.getName() + " DIRECTORY");
            return 2;
        }
        Path directory = Path.of(args[0]);
        if (Files.exists(directory.resolve(FabricKeys.PRIVATE_KEY_FILE)) || Files.exists(directory.resolve(FabricKeys.PUBLIC_KEY_FILE))) {
            err.println("fabric keys already exist in " + directory + ": not replacing them (remove them first to make a new pair)");
            return 1;
        }
        try {
            FabricKeys keys = FabricKeys.generate();
            keys.writeTo(directory);
            out.println(keys.keyId());
            return 0;
        } catch (FabricKeysException e) {
            err.println(e.getMessage());
            return 1;
        }
    }
}
