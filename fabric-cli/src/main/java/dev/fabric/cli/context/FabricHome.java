package dev.fabric.cli.context;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the CLI finds the registry and the fabric keys when the command line does not say: the
 * environment, then the files {@code ./fabric up} leaves in {@code $FABRIC_HOME_DIR} (default
 * {@code ~/.fabric}), then the embedded default.
 */
public record FabricHome(Path directory) {

    public static final String HOME_ENV = "FABRIC_HOME_DIR";
    public static final String REGISTRY_ENV = "FABRIC_REGISTRY";
    public static final String KEYS_ENV = "FABRIC_KEYS";
    public static final String DEFAULT_REGISTRY = "http://127.0.0.1:8470";
    public static final String SPAWNER_ENV = "FABRIC_SPAWNER";
    public static final String DEFAULT_SPAWNER = "http://127.0.0.1:8472";
    /** Written by {@code ./fabric up}: the URL of the registry it started. */
    public static final String REGISTRY_URL_FILE = "registry.url";

    /**
     * A setting and where it came from, so that a message can say why the CLI used it.
     *
     * @param source completes "the URL (or directory) is ...": {@code given by --registry}, {@code read from ~/.fabric/registry.url}...
     */
    public record Setting<T>(T value, String source) {}

    public static FabricHome of(Map<String, String> env, Path userHome) {
        String home = env.get(HOME_ENV);
        return new FabricHome(present(home) ? Path.of(home) : userHome.resolve(".fabric"));
    }

    /** {@code --registry}, else {@code $FABRIC_REGISTRY}, else {@code $FABRIC_HOME_DIR/registry.url}, else the default. */
    public Setting<String> registry(String option, Map<String, String> env) {
        if (present(option)) {
            return new Setting<>(withoutTrailingSlash(option.strip()), "given by --registry");
        }
        String fromEnv = env.get(REGISTRY_ENV);
        if (present(fromEnv)) {
            return new Setting<>(withoutTrailingSlash(fromEnv.strip()), "given by $" + REGISTRY_ENV);
        }
        Path file = directory.resolve(REGISTRY_URL_FILE);
        if (Files.isRegularFile(file)) {
            try {
                String url = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!url.isEmpty()) {
                    return new Setting<>(withoutTrailingSlash(url), "read from " + file);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return new Setting<>(DEFAULT_REGISTRY, "the default (no --registry, no $" + REGISTRY_ENV + ", no " + file + ")");
    }

    /**
     * {@code --spawner}, else {@code $FABRIC_SPAWNER}; empty when neither says, and the spawner is
     * then looked up in the registry ({@code commands/spawner/Spawners}).
     */
    public Optional<Setting<String>> spawner(String option, Map<String, String> env) {
        if (present(option)) {
            return Optional.of(new Setting<>(withoutTrailingSlash(option.strip()), "given by --spawner"));
        }
        String fromEnv = env.get(SPAWNER_ENV);
        if (present(fromEnv)) {
            return Optional.of(new Setting<>(withoutTrailingSlash(fromEnv.strip()), "given by $" + SPAWNER_ENV));
        }
        return Optional.empty();
    }

    /** {@code --keys}, else {@code $FABRIC_KEYS}, else {@code $FABRIC_HOME_DIR/keys}. */
    public Setting<Path> keys(Path option, Map<String, String> env) {
        if (option != null) {
            return new Setting<>(option, "given by --keys");
        }
        String fromEnv = env.get(KEYS_ENV);
        if (present(fromEnv)) {
            return new Setting<>(Path.of(fromEnv), "given by $" + KEYS_ENV);
        }
        return new Setting<>(directory.resolve("keys"), "the default (no --keys, no $" + KEYS_ENV + ")");
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    private static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
