package dev.fabric.cli;

import dev.fabric.testsupport.AotSpawner;
import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.ExecResult;
import dev.fabric.testsupport.NetworkLab.Host;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fabric's processes in the network lab (docs/lab.md), as the lab tests start them: the
 * registry on {@code public} (embedded H2, as {@code ./fabric up} runs it), spawners on any host, and
 * the {@code fabric} CLI run on any host with the test's keys. Logs go to the test's directory and
 * are shown when a step fails.
 */
final class LabFabric {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path REGISTRY_JAR = ROOT.resolve("registry-service/target/registry-service-exec.jar");
    static final Path SPAWNER_JAR = ROOT.resolve("spawner-service/target/spawner-service-exec.jar");
    static final Path CLI_JAR = ROOT.resolve("fabric-cli/target/fabric-cli.jar");
    static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * The ports a new network namespace gives connections of their own ({@code net.ipv4.ip_local_port_range}'s
     * default). A test's fixed port must lie outside it: a client on the server's own host that connects to such a
     * port before the server listens (a readiness probe) can be given that very port as its own and connect to
     * itself (a TCP simultaneous open), and the server's bind then fails, "Port ... was already in use".
     */
    static final int EPHEMERAL_LOW = 32768;
    static final int EPHEMERAL_HIGH = 60999;

    private final NetworkLab lab;
    private final Path dir;
    private final String registryUrl;
    /** The processes this fabric started, by their log's name, so a wait for one ends when it has exited. */
    private final Map<String, Process> started = new ConcurrentHashMap<>();

    private LabFabric(NetworkLab lab, Path dir, String registryUrl) {
        this.lab = lab;
        this.dir = dir;
        this.registryUrl = registryUrl;
    }

    /**
     * Makes the fabric's keys and starts the registry on {@code public} at {@code registryPort}, with
     * {@code registryOptions} ({@code --fabric.registry.*}); skipped when the jars are not built.
     */
    static LabFabric start(NetworkLab lab, Path dir, int registryPort, String... registryOptions) throws InterruptedException {
        for (Path jar : List.of(REGISTRY_JAR, SPAWNER_JAR, CLI_JAR)) {
            assumeTrue(Files.exists(jar), jar + " is not built: run this test through the whole build (./fabric test)");
        }
        LabFabric fabric = new LabFabric(lab, dir, "http://" + lab.address(Host.PUBLIC) + ":" + fixedPort(registryPort));
        Path keys = fabric.keys();
        ExecResult init = lab.exec(Host.DESKTOP, fabric.cli(List.of("--keys", keys.toString(), "keys", "init", "--dir", keys.toString())));
        assertThat(init.ok()).as(init.stderr()).isTrue();
        List<String> command = new ArrayList<>(List.of("-Xmx384m", "--enable-native-access=ALL-UNNAMED", "-jar", REGISTRY_JAR.toString(),
                "--server.address=" + lab.address(Host.PUBLIC)));
        command.addAll(List.of(registryOptions));
        ProcessBuilder registry = lab.processBuilder(Host.PUBLIC, NetworkLab.javaCommand(command.toArray(String[]::new)));
        registry.environment().put("FABRIC_KEYS_PATH", keys.toString());
        registry.environment().put("FABRIC_DATA_DIR", dir.resolve("registry").toString());
        registry.environment().put("FABRIC_REGISTRY_PORT", Integer.toString(registryPort));
        fabric.started.put("registry.log", lab.startProcess(registry, dir.resolve("registry.log")));
        fabric.awaitReady(Host.PUBLIC, fabric.registryUrl, "registry.log");
        return fabric;
    }

    String registryUrl() {
        return registryUrl;
    }

    Path keys() {
        return dir.resolve("keys");
    }

    /**
     * Starts a spawner on {@code host}, listening on every address of it at {@code port} and
     * advertising {@code advertisedUrl}; its log is {@code spawner-NAME.log}. Does not wait for it.
     */
    void startSpawner(Host host, String name, int port, String advertisedUrl, List<String> jvmOptions) {
        List<String> command = new ArrayList<>(AotSpawner.TEST_SPAWNER_JVM);
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Dfabric.spawner.stop-members-on-shutdown=true",
                // A member's JVM starts on a machine shared with other builds: room for it.
                "-Dfabric.spawner.bootstrap-timeout=240s", "-Dfabric.spawner.otp-ttl=240s"));
        command.addAll(jvmOptions);
        // From the extracted jar and AOT caches, as ./fabric up starts it (the lab's hosts share this file system).
        AotSpawner start = AotSpawner.of(SPAWNER_JAR, AotSpawner.TEST_SPAWNER_JVM);
        command.addAll(start.spawnerOptions());
        command.addAll(List.of("-jar", start.jar().toString()));
        command.addAll(start.properties(command));
        ProcessBuilder spawner = lab.processBuilder(host, NetworkLab.javaCommand(command.toArray(String[]::new)));
        spawner.environment().put("FABRIC_KEYS_PATH", keys().toString());
        spawner.environment().put("FABRIC_DATA_DIR", dir.resolve("spawner-" + name).toString());
        spawner.environment().put("FABRIC_REGISTRY_URL", registryUrl);
        spawner.environment().put("FABRIC_SPAWNER_PORT", Integer.toString(fixedPort(port)));
        spawner.environment().put("FABRIC_SPAWNER_ADVERTISED_URL", advertisedUrl);
        started.put("spawner-" + name + ".log", lab.startProcess(spawner, dir.resolve("spawner-" + name + ".log")));
    }

    /** {@code port}, a fixed port of a test's service in the lab, when it lies below the lab's ephemeral range. */
    static int fixedPort(int port) {
        if (port >= EPHEMERAL_LOW && port <= EPHEMERAL_HIGH) {
            throw new IllegalArgumentException("port " + port + " lies in the lab's ephemeral range " + EPHEMERAL_LOW + "-"
                    + EPHEMERAL_HIGH + ", where a probe can take it before the service binds it: choose one below " + EPHEMERAL_LOW);
        }
        return port;
    }

    /**
     * Waits until the node at {@code url} on {@code host} is ready; fails with its log as soon as its process has
     * exited, or after 180 s.
     */
    void awaitReady(Host host, String url, String log) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(180));
        Process process = started.get(log);
        while (!lab.exec(host, "curl", "-fsS", "--max-time", "2", url + "/actuator/health/readiness").ok()) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException(url + " on " + host.labName() + " exited with " + process.exitValue()
                        + " before it was ready; log:\n" + log(log));
            }
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException(url + " on " + host.labName() + " is not ready after 180 s; log:\n" + log(log));
            }
            Thread.sleep(500);
        }
    }

    /** {@code fabric ARGUMENTS} on {@code from}, with the registry and keys; its exit status and output. */
    ExecResult run(Host from, String... arguments) {
        List<String> all = new ArrayList<>(List.of("--registry", registryUrl, "--keys", keys().toString()));
        all.addAll(List.of(arguments));
        return lab.exec(from, cli(all));
    }

    /** {@code fabric ARGUMENTS} on {@code from}, which must succeed; its standard output. Fails with the spawners' logs. */
    String ok(Host from, String... arguments) {
        ExecResult result = run(from, arguments);
        assertThat(result.exitCode()).as("fabric %s on %s: %s\n%s", List.of(arguments), from, result.stderr(), logs()).isZero();
        return result.stdout();
    }

    /** {@code fabric service ID -o json} on the desktop: the member's record and history. */
    JsonNode service(String id) {
        return JSON.readTree(ok(Host.DESKTOP, "service", id, "-o", "json"));
    }

    /**
     * Waits until member {@code id} is in {@code state}, as a user would: one {@code fabric service ID
     * --wait-for STATE} on the desktop (one CLI JVM for the whole wait, not one per poll); fails with
     * the CLI's message, the member's history and the logs.
     */
    JsonNode awaitState(String id, String state, Duration patience) {
        List<String> all = new ArrayList<>(List.of("--registry", registryUrl, "--keys", keys().toString(),
                "service", id, "--wait-for", state, "--timeout", patience.toSeconds() + "s", "-o", "json"));
        ExecResult result = lab.exec(lab.processBuilder(Host.DESKTOP, List.of(cli(all))), patience.plusMinutes(1));
        if (result.exitCode() != 0) {
            throw new AssertionError(id + " is not " + state + " after " + patience + ": " + result.stderr().strip()
                    + "; history: " + service(id).path("history") + "\n" + logs());
        }
        return JSON.readTree(result.stdout()).path("instance");
    }

    static String lastLine(String out) {
        return out.strip().lines().reduce((first, last) -> last).orElseThrow();
    }

    /** The CLI jar run with the test's JDK, its home (and so nothing of the user's ~/.fabric) in the test's directory. */
    String[] cli(List<String> arguments) {
        List<String> command = new ArrayList<>(List.of("env", "FABRIC_HOME_DIR=" + dir.resolve("home")));
        command.addAll(NetworkLab.javaCommand("--enable-native-access=ALL-UNNAMED", "-jar", CLI_JAR.toString()));
        command.addAll(arguments);
        return command.toArray(String[]::new);
    }

    /**
     * The spawners' logs, the registry's, then the end of every member's log the SSH launcher wrote under the test's
     * directory ({@code fabric-HOST/members/ID/member.log}, each incarnation after its {@code ===} header,
     * members spawned by members included), for a failure's message.
     */
    String logs() {
        return logs(dir);
    }

    /** {@link #logs()} of the fabric whose test directory is {@code dir}. */
    static String logs(Path dir) {
        StringBuilder all = new StringBuilder();
        try (var files = Files.list(dir)) {
            files.filter(f -> f.getFileName().toString().startsWith("spawner-") && f.getFileName().toString().endsWith(".log")).sorted()
                    .forEach(f -> all.append("--- ").append(f.getFileName()).append(":\n").append(tail(log(dir, f.getFileName().toString()))));
        } catch (IOException e) {
            all.append("(logs unreadable: ").append(e).append(')');
        }
        // The registry's log records every state change of every member with its reason.
        all.append("--- registry.log:\n").append(tail(log(dir, "registry.log")));
        try (var files = Files.walk(dir)) {
            files.filter(f -> f.getFileName().toString().equals("member.log") && dir.relativize(f).toString().startsWith("fabric-")).sorted()
                    .map(f -> dir.relativize(f).toString())
                    .forEach(name -> all.append("--- ").append(name).append(":\n").append(tail(log(dir, name), 12_000)));
        } catch (IOException | java.io.UncheckedIOException e) {
            all.append("(member logs unreadable: ").append(e).append(')');
        }
        return all.toString();
    }

    String log(String name) {
        return log(dir, name);
    }

    private static String log(Path dir, String name) {
        try {
            Path file = dir.resolve(name);
            return Files.exists(file) ? Files.readString(file) : "(no " + name + ")";
        } catch (IOException e) {
            return "(unreadable " + name + ": " + e + ")";
        }
    }

    /**
     * Copies every log under the test's directory {@code dir} (the spawners', the registry's, and each
     * member's on every host, those of members started by members included), with the members' pid files,
     * to {@code target/lab-logs/NAME/} of the module, where they outlive the test's directory; returns
     * that directory.
     */
    static Path keepLogs(Path dir, String name) throws IOException {
        Path kept = Path.of("target", "lab-logs", name.replaceAll("[^A-Za-z0-9._-]", "_")).toAbsolutePath();
        Files.createDirectories(kept);
        try (var files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().endsWith(".log")
                    || f.getFileName().toString().equals("member.pid")).toList()) {
                Path copy = kept.resolve(dir.relativize(file).toString());
                Files.createDirectories(copy.getParent());
                Files.copy(file, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return kept;
    }

    /**
     * For a lab test class, {@code @RegisterExtension static final LabFabric.KeepLogsOnFailure logs = new
     * LabFabric.KeepLogsOnFailure(() -> dir);}: when a test or its class's set-up fails, the fabric's logs
     * are copied to {@code target/lab-logs/} ({@link #keepLogs}) before the test's directory is deleted,
     * and their ends are printed, so that a failure seen once can be read afterwards.
     */
    static final class KeepLogsOnFailure implements org.junit.jupiter.api.extension.TestWatcher,
            org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler {

        private final java.util.function.Supplier<Path> dir;

        KeepLogsOnFailure(java.util.function.Supplier<Path> dir) {
            this.dir = dir;
        }

        @Override
        public void testFailed(org.junit.jupiter.api.extension.ExtensionContext context, Throwable cause) {
            keep(context);
        }

        @Override
        public void handleBeforeAllMethodExecutionException(org.junit.jupiter.api.extension.ExtensionContext context,
                                                            Throwable throwable) throws Throwable {
            keep(context);
            throw throwable;
        }

        private void keep(org.junit.jupiter.api.extension.ExtensionContext context) {
            Path from = dir.get();
            if (from == null || !Files.isDirectory(from)) {
                return;
            }
            String name = context.getRequiredTestClass().getSimpleName() + "-" + context.getTestMethod().map(m -> m.getName())
                    .orElse("setup") + "-" + Instant.now().toString().replace(':', '-');
            try {
                Path kept = keepLogs(from, name);
                System.out.println("=== " + name + " failed; the fabric's logs are kept in " + kept + "; their ends:\n" + logs(from));
            } catch (IOException | RuntimeException e) {
                System.out.println("=== " + name + " failed; its logs could not be kept: " + e + "\n" + logs(from));
            }
        }
    }

    private static String tail(String text) {
        return tail(text, 20_000);
    }

    private static String tail(String text, int max) {
        return text.length() <= max ? text : "...\n" + text.substring(text.length() - max);
    }
}
