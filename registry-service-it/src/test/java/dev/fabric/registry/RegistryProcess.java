package dev.fabric.registry;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The registry as a real child process, from the runnable jar the build made. */
public final class RegistryProcess implements AutoCloseable {

    /** The runnable jar registry-service built; these tests run in registry-service-it/, beside it. */
    public static final Path JAR = Path.of("..", "registry-service", "target", "registry-service-exec.jar").toAbsolutePath().normalize();

    public final int port;
    private final String heap;
    private final List<String> properties;
    private final Path log;
    private Process process;

    public RegistryProcess(Path dataDir, Path keyDir, List<String> extraProperties) throws IOException {
        this(dataDir, keyDir, extraProperties, "256m");
    }

    /** @param heap its maximum heap ({@code -Xmx}), for a benchmark that needs more than the tests' 256m */
    public RegistryProcess(Path dataDir, Path keyDir, List<String> extraProperties, String heap) throws IOException {
        this.heap = heap;
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run the integration tests through 'mvn verify'");
        }
        try (ServerSocket socket = new ServerSocket(0)) {
            this.port = socket.getLocalPort();
        }
        this.properties = new ArrayList<>(List.of("--server.port=" + port, "--fabric.registry.data-dir=" + dataDir,
                "--fabric.security.keys-path=" + keyDir));
        this.properties.addAll(extraProperties);
        this.log = dataDir.resolveSibling(dataDir.getFileName() + "-registry.log");
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public void start() throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx" + heap));
        // Extra JVM options for a benchmark run, e.g. -Dregistry.jvmArgs=-XX:StartFlightRecording=filename=/tmp/r.jfr
        String extra = System.getProperty("registry.jvmArgs", "");
        if (!extra.isBlank()) {
            command.addAll(List.of(extra.trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(properties);
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the registry exited with " + process.exitValue() + "; log: " + Files.readString(log));
            }
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(url() + "/actuator/health/readiness"))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the registry did not become ready in 180 s; log: " + Files.readString(log));
    }

    /** SIGSTOP: the process stops being scheduled, its sockets keep taking connections; {@link #resume} ends it. */
    public void pause() throws Exception {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause}. */
    public void resume() throws Exception {
        signal("CONT");
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** What the process has written so far. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    /** kill -9: no shutdown hook, no flush, no goodbye. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
