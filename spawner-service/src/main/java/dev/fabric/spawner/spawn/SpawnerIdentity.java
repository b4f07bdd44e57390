package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.Ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Who this spawner is: an id configured ({@code fabric.spawner.id}) or kept in its data directory across restarts (its members' parent in
 * the registry, so a restarted spawner finds them) and the URL members and clients reach it at.
 */
public record SpawnerIdentity(String id, URI url) {

    static SpawnerIdentity load(String configuredId, Path dataDir, URI url) {
        if (configuredId != null && !configuredId.isBlank()) {
            if (!configuredId.matches(Ids.PATTERN)) {
                throw new IllegalStateException("fabric.spawner.id '" + configuredId + "' is not an id: " + Ids.MESSAGE);
            }
            return new SpawnerIdentity(configuredId, url);
        }
        Path file = dataDir.resolve("spawner.id");
        try {
            Files.createDirectories(dataDir);
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!id.matches(Ids.PATTERN)) {
                    throw new IllegalStateException(file + " holds '" + id + "', which is not an id (" + Ids.MESSAGE + "); fix or delete it");
                }
                return new SpawnerIdentity(id, url);
            }
            byte[] random = new byte[4];
            new SecureRandom().nextBytes(random);
            String id = "spawner-" + HexFormat.of().formatHex(random);
            Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
            return new SpawnerIdentity(id, url);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the spawner id in " + file, e);
        }
    }
}
