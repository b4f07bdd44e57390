package dev.fabric.cli;

import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.registry.RegistryApplication;
import dev.fabric.testsupport.AotSpawner;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real fabric for the ITs that spawn members: the registry in this JVM (H2 in a directory), the
 * spawner jar as a process spawning its members as processes, and a {@link Cli} that finds both
 * through the registry ({@code $FABRIC_REGISTRY}, no {@code $FABRIC_SPAWNER}).
 */
final class LocalFabric implements AutoCloseable {

    /** Built by spawner-service, which comes before fabric-cli in a full build; the ITs are skipped without it. */
    static final Path SPAWNER_JAR = Path.of("..", "spawner-service", "target", "spawner-service-exec.jar").toAbsolutePath().normalize();

    static final String NOT_BUILT = SPAWNER_JAR + " is not built: build spawner-service first (./mvnw -pl spawner-service package)";

    /**
     * One fabric for all the tests of a class, started before the first and stopped after the last
     * (a fabric takes seconds to start): {@code @RegisterExtension static final LocalFabric.PerClass
     * fabric = new LocalFabric.PerClass();}. The class is skipped when the spawner jar is not built.
     */
    static final class PerClass implements BeforeAllCallback, AfterAllCallback {

        private final List<String> spawnerProperties;
        private Path dir;
        private LocalFabric fabric;

        /** @param spawnerProperties more {@code --name=value} settings of the spawner (its members inherit the spawner's) */
        PerClass(String... spawnerProperties) {
            this.spawnerProperties = List.of(spawnerProperties);
        }

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            assumeTrue(Files.exists(SPAWNER_JAR), NOT_BUILT);
            dir = Files.createTempDirectory("local-fabric-");
            fabric = start(dir, spawnerProperties);
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            if (fabric != null) {
                fabric.close();
            }
            if (dir != null) {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
                }
            }
        }

        /** The CLI, with this fabric's registry and keys in its environment. */
        Cli cli() {
            return fabric.cli();
        }

        /** The registry, through fabric-core's own signed client. */
        RegistryClient registry() {
            return fabric.registry();
        }

        /** The fabric keys' directory. */
        Path keys() {
            return dir.resolve("keys");
        }

        /** The fabric keys, to sign what the CLI has no command for (a spawn on a member's management port). */
        FabricKeys fabricKeys() {
            return fabric.keys();
        }
    }

    private final Path dir;
    private final List<String> spawnerProperties;
    private ConfigurableApplicationContext registryContext;
    private RegistryClient registry;
    private FabricKeys keys;
    private Process spawner;
    private Cli cli;

    private LocalFabric(Path dir, List<String> spawnerProperties) {
        this.dir = dir;
        this.spawnerProperties = spawnerProperties;
    }

    /** Starts the registry and the spawner with fresh fabric keys under {@code dir}; stops what started when one fails. */
    static LocalFabric start(Path dir) throws Exception {
        return start(dir, List.of());
    }

    static LocalFabric start(Path dir, List<String> spawnerProperties) throws Exception {
        LocalFabric fabric = new LocalFabric(dir, spawnerProperties);
        try {
            fabric.startAll();
            return fabric;
        } catch (Exception | Error e) {
            fabric.close();
            throw e;
        }
    }

    private void startAll() throws Exception {
        Path keys = dir.resolve("keys");
        FabricKeys fabricKeys = FabricKeys.generate();
        fabricKeys.writeTo(keys);
        this.keys = fabricKeys;
        registryContext = new SpringApplicationBuilder(RegistryApplication.class).run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--fabric.registry.data-dir=" + dir.resolve("registry"),
                "--fabric.security.keys-path=" + keys);
        String registryUrl = "http://127.0.0.1:" + registryContext.getEnvironment().getProperty("local.server.port");
        registry = new RegistryClient(URI.create(registryUrl), fabricKeys, Duration.ofSeconds(10));

        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = dir.resolve("spawner.log");
        // From the extracted jar and AOT caches, as ./fabric up starts it: a member's JVM starts on half the CPU.
        AotSpawner start = AotSpawner.of(SPAWNER_JAR, AotSpawner.TEST_SPAWNER_JVM);
        List<String> command = start.command(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(List.of(
                "--server.port=" + port,
                "--fabric.spawner.data-dir=" + dir.resolve("spawner-data"),
                "--fabric.security.keys-path=" + keys,
                "--fabric.spawner.registry-url=" + registryUrl,
                "--fabric.spawner.stop-members-on-shutdown=true"));
        command.addAll(start.properties(spawnerProperties));
        command.addAll(spawnerProperties);
        spawner = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        awaitReady("http://127.0.0.1:" + port, log);

        // No $FABRIC_SPAWNER and no --spawner: the commands find the spawner in the registry.
        cli = new Cli(Map.of(FabricHome.HOME_ENV, dir.resolve("home").toString(), FabricHome.REGISTRY_ENV, registryUrl,
                FabricHome.KEYS_ENV, keys.toString()), dir, Clock.systemUTC());
    }

    /** The registry, through fabric-core's own signed client. */
    RegistryClient registry() {
        return registry;
    }

    /** The CLI, with this fabric's registry and keys in its environment. */
    Cli cli() {
        return cli;
    }

    /** The fabric keys, to sign what the CLI has no command for (a spawn on a member's management port). */
    FabricKeys keys() {
        return keys;
    }

    private void awaitReady(String url, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!spawner.isAlive()) {
                throw new IllegalStateException("the spawner exited with " + spawner.exitValue() + "; log:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(url + "/actuator/health/readiness"))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the spawner did not become ready in 90 s; log:\n" + Files.readString(log));
    }

    @Override
    public void close() throws InterruptedException {
        if (spawner != null && spawner.isAlive()) {
            spawner.destroy();
            spawner.waitFor(30, TimeUnit.SECONDS);
        }
        // Members outlive a spawner killed hard, on purpose: end any of this fabric's that are left.
        Path members = dir.resolve("spawner-data").resolve("members");
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("-Dfabric.member.id="))
                .filter(p -> workingDirectory(p).startsWith(members))
                .forEach(ProcessHandle::destroyForcibly);
        if (registryContext != null) {
            registryContext.close();
        }
    }

    private static Path workingDirectory(ProcessHandle process) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "cwd"));
        } catch (IOException | UnsupportedOperationException e) {
            return Path.of("/nonexistent");
        }
    }
}
