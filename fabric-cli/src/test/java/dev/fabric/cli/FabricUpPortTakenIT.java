package dev.fabric.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./fabric up} when another process holds one of its ports: it must never take that
 * process's answer for its own service's and say "fabric is up", but fail naming the port and the
 * option that chooses another, before it builds or starts anything.
 */
class FabricUpPortTakenIT {

    private static final Path LAUNCHER = Path.of(System.getProperty("user.dir")).getParent().resolve("fabric");

    @TempDir
    Path home;

    @Test
    void aRegistryPortHeldByAnotherFabricIsNamedWithTheOptionToChooseAnother() throws Exception {
        // Another fabric's registry: it answers the readiness probe as ours would.
        HttpServer other = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        other.createContext("/", exchange -> {
            byte[] body = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        other.start();
        try (ServerSocket free = new ServerSocket(0)) {
            int port = other.getAddress().getPort();
            int spawnerPort = free.getLocalPort();
            free.close();

            Run up = up("--port", Integer.toString(port), "--spawner-port", Integer.toString(spawnerPort));

            assertThat(up.exitCode).isEqualTo(1);
            assertThat(up.out).doesNotContain("fabric is up");
            assertThat(up.err)
                    .contains("port " + port + ", where the registry would listen, is taken by another fabric service")
                    .contains("./fabric up --port N");
            assertNothingStarted();
        } finally {
            other.stop(0);
        }
    }

    @Test
    void aSpawnerPortHeldByAnyProcessIsNamedWithItsOption() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                ServerSocket free = new ServerSocket(0)) {
            int registryPort = free.getLocalPort();
            free.close();

            Run up = up("--port", Integer.toString(registryPort), "--spawner-port", Integer.toString(held.getLocalPort()));

            assertThat(up.exitCode).isEqualTo(1);
            assertThat(up.out).doesNotContain("fabric is up");
            assertThat(up.err)
                    .contains("port " + held.getLocalPort() + ", where the spawner would listen, is taken by another process")
                    .contains("./fabric up --spawner-port N");
            assertNothingStarted();
        }
    }

    private void assertNothingStarted() throws IOException {
        Path run = home.resolve("run");
        if (Files.isDirectory(run)) {
            try (var files = Files.list(run)) {
                assertThat(files.filter(f -> f.toString().endsWith(".pid"))).isEmpty();
            }
        }
        assertThat(home.resolve("keys")).doesNotExist();
    }

    private record Run(int exitCode, String out, String err) {}

    private Run up(String... options) throws Exception {
        ProcessBuilder builder = new ProcessBuilder();
        builder.command().add(LAUNCHER.toString());
        builder.command().add("up");
        builder.command().addAll(List.of(options));
        builder.environment().put("FABRIC_HOME_DIR", home.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.redirectOutput(home.resolve("up.out").toFile()).redirectError(home.resolve("up.err").toFile());
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("./fabric up did not end within 120 s; its error output: " + Files.readString(home.resolve("up.err")));
        }
        return new Run(process.exitValue(), Files.readString(home.resolve("up.out")), Files.readString(home.resolve("up.err")));
    }
}
